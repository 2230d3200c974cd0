"""Rebuild on a live system: events keep flowing and queries keep answering while every event
is replayed into a fresh schema that is then swapped in; ``check`` finds no difference."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg

from services.projections.bootstrap import create_rebuild
from tests.integration.projections.conftest import projections_settings
from tests.integration.projections.helpers import ClientFeed, fresh, publish, snapshot, wait_consumed

ROOT = Path(__file__).resolve().parents[3]


async def a_client(producer) -> ClientFeed:
    feed = ClientFeed(f"Live {uuid4().hex[:6]}")
    contract, period = uuid4(), uuid4()
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "L-1", date(2026, 1, 1)),
        feed.period_added(contract, period, date(2026, 1, 1), date(2026, 12, 31), "900.00"),
        feed.payment(contract, period, "900.00", date(2026, 1, 2), "900.00", True),
        feed.period_started(contract, period, date(2026, 1, 1), date(2026, 12, 31)),
    )
    return feed


def run_cli(
    stack, command: str, dsn: str | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PROJECTIONS_DATABASE_URL": dsn or stack.database_urls["projections"],
        "ABONENT_KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "COLUMNS": "1000",  # the console wraps its lines at this width (80 when not a terminal)
        **(extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "services.projections.entrypoints.cli", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_rebuild_on_a_live_system_yields_the_same_read_model(
    projections_api, producer, stack, projections_dsn
) -> None:
    known = await a_client(producer)
    await fresh(
        projections_api,
        f"/clients/{known.client_id}/coverage",
        {"on": "2026-06-01", "min_position": known.last_position},
    )

    stop = asyncio.Event()
    written: list[ClientFeed] = []
    answers: list[int] = []

    async def keep_writing() -> None:
        while not stop.is_set():
            written.append(await a_client(producer))

    async def keep_querying() -> None:
        while not stop.is_set():
            r = await projections_api.get(f"/clients/{known.client_id}/coverage", params={"on": "2026-06-01"})
            answers.append(r.status_code)
            assert r.json()["status"] == "covered", r.text

    tasks = [asyncio.create_task(keep_writing()), asyncio.create_task(keep_querying())]
    try:
        report = await create_rebuild(projections_settings(stack)).run(swap=True)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert report.swapped and report.read > 0 and report.applied > 0
    assert answers and set(answers) == {200}, "queries failed during the swap"
    assert written, "nothing was written during the rebuild"

    conn = await asyncpg.connect(projections_dsn)
    try:
        schemas = {r[0] for r in await conn.fetch("SELECT nspname FROM pg_namespace")}
    finally:
        await conn.close()
    assert not {s for s in schemas if s.startswith("projections_")} - {"projections_meta"}

    last = written[-1]
    body = await fresh(
        projections_api, f"/clients/{last.client_id}/coverage", {"on": "2026-06-01", "min_position": last.last_position}
    )
    assert body["status"] == "covered"  # the live consumer goes on in the swapped-in schema
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)

    checked = await asyncio.to_thread(run_cli, stack, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no differences" in checked.stderr


async def test_a_rebuild_split_over_worker_processes_equals_one_made_in_one_process(
    projections_api, producer, stack, projections_dsn
) -> None:
    """Each worker replays its partitions of both topics into the one fresh schema; the
    swapped-in result then equals a replay made in one process (``check``, whose backlog here
    is under ``parallel_from``), and a check split over workers finds no difference either."""
    for _ in range(6):
        last = await a_client(producer)
    await fresh(
        projections_api, f"/clients/{last.client_id}/coverage", {"on": "2026-06-01", "min_position": last.last_position}
    )
    settings = projections_settings(stack)
    settings.rebuild_workers, settings.rebuild_parallel_from = 2, 0
    report = await create_rebuild(settings).run(swap=True)
    assert report.swapped and report.workers == 2
    assert report.read > 0 and report.applied > 0  # (other tests' poison records share the topics)
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)

    in_one = await asyncio.to_thread(run_cli, stack, "check")
    assert in_one.returncode == 0, in_one.stdout + in_one.stderr
    assert "no differences" in in_one.stderr and "processes" not in in_one.stderr
    split = await asyncio.to_thread(
        run_cli, stack, "check", None, {"PROJECTIONS_REBUILD_WORKERS": "3", "PROJECTIONS_REBUILD_PARALLEL_FROM": "0"}
    )
    assert split.returncode == 0, split.stdout + split.stderr
    said = " ".join(split.stderr.split())  # the console wraps long lines at its width
    assert "in 3 processes" in said and "no differences" in said
    peak = re.search(r"each at most ([\d,]+) MB RSS", said)
    assert peak and int(peak[1].replace(",", "")) > 0, split.stderr  # the workers' memory, measured


async def test_check_reports_a_difference_and_rebuild_repairs_it(
    projections_api, producer, stack, projections_dsn
) -> None:
    feed = await a_client(producer)
    await fresh(
        projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-06-01", "min_position": feed.last_position}
    )
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)
    conn = await asyncpg.connect(projections_dsn)
    try:
        await conn.execute(
            "UPDATE projections.periods SET paid_amount = 0 WHERE client_id = $1", feed.client_id
        )  # a bug in some old code, say
    finally:
        await conn.close()
    broken = (await projections_api.get(f"/clients/{feed.client_id}/coverage", params={"on": "2026-06-01"})).json()
    assert broken["status"] == "unpaid"

    checked = await asyncio.to_thread(run_cli, stack, "check")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "periods" in checked.stderr and "differs" in checked.stderr

    rebuilt = await asyncio.to_thread(run_cli, stack, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "events read" in rebuilt.stderr and "swapped in" in rebuilt.stderr
    repaired = (await projections_api.get(f"/clients/{feed.client_id}/coverage", params={"on": "2026-06-01"})).json()
    assert repaired["status"] == "covered"
    before = await snapshot(projections_dsn)
    assert before["periods"][0] > 0


async def test_a_rebuild_leaves_every_debtors_answer_as_it_was(
    projections_api, producer, stack, projections_dsn
) -> None:
    """Issue 20: a rebuild fills ``period_debts`` (and ``income_months``) once after its bulk
    replay, before indexing, and keeps them in step while it chases the live consumer — no
    fill under the swap lock. Debtors answer the same before and after, on dates when many
    and when few owe, per payment terms, first pages and pages by cursor."""
    last = 0
    for n in range(6):
        feed, contract, other = ClientFeed(f"Rebuilt debtor {uuid4().hex[:6]} {n}"), uuid4(), uuid4()
        periods = [(uuid4(), date(2026, m, 1), date(2026, m + 1, 1) - timedelta(days=1)) for m in (1, 2, 3)]
        events = [feed.registered(), feed.contract_opened(contract, f"RD-{n}", date(2026, 1, 1))]
        events += [
            feed.period_added(contract, p, s, e, "300.00", ("prepaid", "postpaid")[n % 2]) for p, s, e in periods
        ]
        events.append(
            feed.payment(contract, periods[0][0], "300.00", date(2026, 1, 1) + timedelta(days=3 * n), "300.00", True)
        )
        if n % 3 == 0:
            events += [
                feed.contract_opened(other, f"RD-{n}-b", date(2026, 1, 1)),
                feed.period_added(other, uuid4(), date(2026, 1, 1), date(2026, 6, 30), "900.00"),
                feed.terminated(other, date(2026, 2, 1)),
            ]
        await publish(producer, feed, *events)
        last = max(last, feed.last_position)
    await fresh(projections_api, "/debtors", {"on": "2026-03-01", "min_position": last})
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)

    async def answers() -> dict[tuple[str, str], list[dict]]:
        out = {}
        for on in ("2026-01-02", "2026-01-20", "2026-02-15", "2026-04-10", "2025-06-01"):
            for terms in ("", "prepaid", "postpaid"):
                params = {"on": on, "page_size": 40, **({"payment_terms": terms} if terms else {})}
                pages, body = [], {"next_after": None}
                while True:
                    response = await projections_api.get("/debtors", params=params)
                    assert response.status_code == 200, response.text
                    body = response.json()
                    pages.append(body)
                    if body["next_after"] is None or len(pages) == 3:
                        break
                    params = {**params, "after": body["next_after"]}
                out[(on, terms)] = pages
        return out

    before, tables = await answers(), await snapshot(projections_dsn)
    report = await create_rebuild(projections_settings(stack)).run(swap=True)
    assert report.swapped
    assert await answers() == before
    after = await snapshot(projections_dsn)
    assert after["period_debts"] == tables["period_debts"] and after["income_months"] == tables["income_months"]
