"""``python -m bench.append_cost [--appends 3000]``: the CPU of one ``EventStore.append``, both sides.

Starts its own PostgreSQL (free port, temp dir, removed after), migrates a contracts database
and appends one event (a client registered: one outbox row) per stream, ``--appends`` times
from one connection, one after another: the CPU time of this process and of its PostgreSQL
backend (``/proc/<pid>/stat``) divided by the appends. No concurrency and no other load of
ours, so the figure is what an append costs, not what it waits for. Beside it, on the same
connection: a single-row ``INSERT`` (pgbench's statement) as the floor of one round trip.

Variants of the server side are compared on one server, back to back (``--variants``):
``default`` (as released), ``generic`` (the session's ``plan_cache_mode = force_generic_plan``:
the function's statements planned once per connection), ``custom`` (planned on every call),
``many<N>`` (``append_many`` of N streams: a group commit's transaction). With a row of the
caller's (the payer directory's row of the client, as a registration writes it): ``hooked``
(the row in the append's transaction by a hook of its own — ``BEGIN``, the append, the row,
``COMMIT``: how such a command was written before), ``rowwrite`` (the same row as a
``RowWrite``, in the append's own statement).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import typer

from bench.environment import cpu_of
from bench.tools import own_postgres, with_database
from deploy.local import postgres
from services.contracts.adapters.outbox_routing import route
from services.contracts.adapters.statement_tables import PostgresPayerDirectory
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import _init_connection, _keep_session
from shared.eventstore.ports import InTransaction
from shared.eventstore.records import NEW_STREAM, Append, CommandContext, NewEvent
from shared.eventstore.store import PostgresEventStore

PLAN_MODES = {"default": None, "generic": "force_generic_plan", "custom": "force_custom_plan"}
FUNCTION = (
    "eventstore_append(bigint, text, integer, text, text, text, text, uuid[], text[], integer[], jsonb[],"
    " timestamptz[], text[], text[], uuid[], bytea[], jsonb[], integer[])"
)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _one(dsn: str, variant: str, appends: int) -> dict[str, float]:
    settings = {"plan_cache_mode": PLAN_MODES[variant]} if PLAN_MODES.get(variant) else {}
    # (custom/generic: the whole session; fn-custom/fn-generic: the function's own SET)
    pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=1, server_settings=settings, init=_init_connection, reset=_keep_session
    )
    if variant in ("fn-generic", "fn-custom"):  # the function's own setting for its statements' plans
        mode = "force_generic_plan" if variant == "fn-generic" else "force_custom_plan"
        await pool.execute(f"ALTER FUNCTION {FUNCTION} SET plan_cache_mode = {mode}")
    async with pool.acquire() as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
    store = PostgresEventStore(pool, router=route, service="bench")
    ctx = CommandContext(correlation_id="bench", actor="bench", now=datetime.now(UTC))

    def event() -> NewEvent:
        cid = uuid.uuid4()
        data = {"client_id": str(cid), "name": "Bench client", "manager_name": "M", "manager_email": "m@x.example"}
        return NewEvent(uuid.uuid4(), "ClientRegistered", 1, data, ctx.now)

    group = int(variant[4:]) if variant.startswith("many") else 0

    directory = PostgresPayerDirectory(pool)

    def row(e: NewEvent) -> InTransaction | None:
        client_id, tax_id = uuid.UUID(e.data["client_id"]), str(e.data["client_id"])[:12]
        if variant == "rowwrite":
            return directory.recording_client(client_id, tax_id)
        if variant != "hooked":
            return None

        async def hook(tx: asyncpg.Connection, _: list) -> None:  # the row as it was written before
            await tx.execute(
                """INSERT INTO payer_tax_ids (client_id, tax_id) VALUES ($1, $2)
                   ON CONFLICT (client_id) DO UPDATE SET tax_id = excluded.tax_id""",
                client_id,
                tax_id,
            )

        return hook

    async def append(n: int) -> None:
        if group:  # append_many: one transaction for ``group`` streams (what a group commit would do)
            for _ in range(n // group):
                events = [event() for _ in range(group)]
                await store.append_many(
                    [Append(f"client-{e.data['client_id']}", NEW_STREAM, [e], e.data["client_id"]) for e in events],
                    ctx=ctx,
                )
            return
        for _ in range(n):
            e = event()
            await store.append(
                f"client-{e.data['client_id']}",
                NEW_STREAM,
                [e],
                partition_key=e.data["client_id"],
                ctx=ctx,
                in_transaction=row(e),
            )

    await append(200)  # warm-up: plans cached, codecs introspected
    mine, theirs, wall = _cpu(), cpu_of(backend) or 0.0, time.perf_counter()
    await append(appends)
    out = {
        "client_ms": 1000 * (_cpu() - mine) / appends,
        "backend_ms": 1000 * ((cpu_of(backend) or 0.0) - theirs) / appends,
        "wall_ms": 1000 * (time.perf_counter() - wall) / appends,
    }
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_insert"
            " (id bigserial PRIMARY KEY, client_id uuid NOT NULL, data jsonb NOT NULL)"
        )
        insert = 'INSERT INTO bench_insert (client_id, data) VALUES (gen_random_uuid(), \'{"amount": "100.00"}\')'
        for _ in range(200):
            await conn.execute(insert)
        theirs, wall = cpu_of(backend) or 0.0, time.perf_counter()
        for _ in range(appends):
            await conn.execute(insert)
        out["insert_backend_ms"] = 1000 * ((cpu_of(backend) or 0.0) - theirs) / appends
        out["insert_wall_ms"] = 1000 * (time.perf_counter() - wall) / appends
    if variant in ("fn-generic", "fn-custom"):
        await pool.execute(f"ALTER FUNCTION {FUNCTION} RESET plan_cache_mode")
    await pool.close()
    return out


async def _all(server: str, variants: list[str], appends: int, rounds: int) -> list[str]:
    await postgres.create_databases(server, ["contracts"])
    dsn = with_database(server, "contracts")
    await apply_migrations(dsn, migrations_dir("contracts"))
    lines = [
        f"appends of one event (1 outbox row), {appends} per run, one connection,"
        f" load average {os.getloadavg()[0]:.1f}",
        "| variant | run | client CPU ms/append | backend CPU ms/append | wall ms/append"
        " | backend CPU ms per single-row INSERT |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in range(rounds):
        for v in variants:
            m = await _one(dsn, v, appends)
            cells = [m["client_ms"], m["backend_ms"], m["wall_ms"], m["insert_backend_ms"]]
            lines.append(f"| {v} | {r + 1} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
            print(lines[-1], flush=True)
    return lines


def main(
    appends: int = typer.Option(3000),
    variants: str = typer.Option("default,generic,custom"),
    rounds: int = typer.Option(2),
) -> None:
    with own_postgres("append-cost") as (_work, server):
        lines = asyncio.run(_all(server, [v.strip() for v in variants.split(",")], appends, rounds))
    print("\n".join(lines))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (Path(__file__).parent / "results" / f"append-cost-{stamp}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    typer.run(main)
