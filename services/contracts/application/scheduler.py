"""The scheduler of time events: emit every reminder / start / end / overdue due by a date.

Safe as several replicas: each contract's time events are decided against its stream and
appended with the version read, so two ticks racing on one contract produce one winner;
the loser re-reads, finds nothing due, and writes nothing. Exactly once per key, across
restarts, because what was emitted is part of the contract's own state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from services.contracts.adapters.time_events_table import contracts_due
from services.contracts.application.commands import ContractsApplication
from services.contracts.domain.commands import EmitDueTimeEvents
from shared.eventstore.records import CommandContext
from shared.logging import get_logger

log = get_logger("contracts.scheduler")


@dataclass(frozen=True)
class TickResult:
    as_of: date
    contracts: int
    emitted: int
    position: int | None


async def tick(app: ContractsApplication, pool: asyncpg.Pool, as_of: date, ctx: CommandContext,
               batch: int = 500) -> TickResult:
    contracts = emitted = 0
    position: int | None = None
    done: set = set()
    while True:
        due = [c for c in await contracts_due(pool, as_of, batch + len(done)) if c not in done]
        if not due:
            break
        for contract_id in due:
            done.add(contract_id)
            state, _ = await app.get_contract(contract_id)
            client = await app.get_client(state.client_id)
            result = await app.handle_contract(EmitDueTimeEvents(contract_id, as_of, client, app.grace_days), ctx)
            contracts += 1
            emitted += len(result.recorded)
            if result.position is not None:
                position = max(position or 0, result.position)
    if emitted:
        log.info("time events emitted", as_of=as_of.isoformat(), contracts=contracts, emitted=emitted)
    return TickResult(as_of, contracts, emitted, position)
