"""The scheduler of time events: emit every reminder / start / end / overdue due by a date.

Safe as several replicas: each contract's time events are decided against its stream and
appended with the version read, so two ticks racing on one contract produce one winner;
the loser re-reads, finds nothing due, and writes nothing. Exactly once per key, across
restarts, because what was emitted is part of the contract's own state.

One contract whose time events cannot be emitted (a bug, data the decider or the database
refuses) is logged, counted (``scheduler_failed_total``) and skipped for this tick; the
contracts after it go on. It stays due, so the next tick tries it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from uuid import UUID

from prometheus_client import Counter

from services.contracts.application.commands import ContractsApplication
from shared.calendar import CompanyCalendar
from shared.domain_errors import RuleViolated
from shared.eventstore.records import CommandContext
from shared.logging import get_logger

log = get_logger("contracts.scheduler")

DUE = Counter("scheduler_due_total", "Contracts a tick found with time events due")
EMITTED = Counter("scheduler_emitted_total", "Time events the scheduler wrote")
FAILED = Counter("scheduler_failed_total", "Contracts whose due time events failed and were skipped for a tick")


@dataclass(frozen=True)
class TickResult:
    as_of: date
    contracts: int
    emitted: int
    position: int | None
    failed: int = 0
    """Contracts skipped because emitting their time events failed (they stay due)."""


def acting_moment(now: datetime, as_of: date, calendar: CompanyCalendar) -> datetime:
    """The moment a tick for ``as_of`` acts at: now, or the end of ``as_of`` when that day is past.

    The loop ticks for today, so this is the real moment; an admin's tick for a past day (a
    scenario played through the year, a catch-up of one day) judges what is old news as of that
    day, as the loop would have on it. Lateness is never judged later than the real moment.
    """
    if calendar.date_of(now) <= as_of:
        return now
    return datetime.combine(as_of, time.max, tzinfo=calendar.tz)


def refuse_future(as_of: date, today: date, allow_future: bool) -> None:
    """A tick for a day that has not come yet writes every time event up to it for good and
    mails the notices: only installations that move through time on purpose (the local stack,
    the demo, the tests: ``CONTRACTS_ALLOW_FUTURE_TICKS=true``) may ask for one."""
    if as_of > today and not allow_future:
        raise RuleViolated(
            "as_of_in_future",
            f"as_of {as_of} is after today ({today} in the company's "
            "time zone); time events cannot be emitted ahead of their day",
            field="as_of",
        )


async def tick(
    app: ContractsApplication,
    as_of: date,
    ctx: CommandContext,
    batch: int = 500,
    calendar: CompanyCalendar | None = None,
) -> TickResult:
    """Emit what is due by ``as_of``; an event dated more than ``calendar.late_event_days``
    before the moment this tick acts for is marked ``late`` (see ``acting_moment``)."""
    calendar = calendar or CompanyCalendar()
    now = acting_moment(ctx.now, as_of, calendar)
    contracts = emitted = failed = 0
    position: int | None = None
    done: set[UUID] = set()
    while True:
        due = [c for c in await app.time_events.contracts_due(as_of, batch + len(done)) if c not in done]
        if not due:
            break
        DUE.inc(len(due))
        for contract_id in due:
            done.add(contract_id)
            try:
                result = await app.emit_due(contract_id, as_of, now, calendar, ctx)
            except Exception:
                failed += 1
                FAILED.inc()
                log.exception("time events of a contract failed; skipped this tick", contract_id=str(contract_id))
                continue
            contracts += 1
            emitted += len(result.recorded)
            EMITTED.inc(len(result.recorded))
            if result.position is not None:
                position = max(position or 0, result.position)
    if emitted or failed:
        log.info("time events emitted", as_of=as_of.isoformat(), contracts=contracts, emitted=emitted, failed=failed)
    return TickResult(as_of, contracts, emitted, position, failed)
