"""Ids to aim requests at, read from the projections' tables once the data is applied."""

from __future__ import annotations

import random
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from bench.context import Ctx


@dataclass(frozen=True)
class Payable:
    contract_id: UUID
    period_id: UUID
    client_id: UUID


@dataclass
class Targets:
    clients: list[UUID]
    payable: list[Payable]
    """One unpaid period per contract (distinct contracts), each owing well over 1.00."""


async def load_targets(ctx: Ctx, limit: int = 50_000) -> Targets:
    if "targets" in ctx.data:
        return ctx.data["targets"]
    conn = await asyncpg.connect(ctx.env.dsn("projections"))
    try:
        clients = [r[0] for r in await conn.fetch("SELECT client_id FROM projections.clients")]
        payable = [
            Payable(*r)
            for r in await conn.fetch(
                """SELECT DISTINCT ON (contract_id) contract_id, period_id, client_id
               FROM projections.periods WHERE NOT paid AND amount - paid_amount >= 1000
               ORDER BY contract_id, starts_on DESC LIMIT $1""",
                limit,
            )
        ]
    finally:
        await conn.close()
    rng = random.Random(7)
    rng.shuffle(clients)
    rng.shuffle(payable)
    if not clients or not payable:
        raise RuntimeError("no clients or unpaid periods in the read model: did the data load and apply?")
    ctx.data["targets"] = Targets(clients, payable)
    return ctx.data["targets"]
