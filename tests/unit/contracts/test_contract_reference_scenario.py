"""docs/design.md §1 reference scenario, on the aggregate alone: a year of quarterly prepaid service."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from services.contracts.domain import client as client_agg
from services.contracts.domain.commands import (
    EmitDueTimeEvents,
    OpenContract,
    RecordPayment,
    RegisterClient,
    SchedulePeriods,
)
from services.contracts.domain.contract import decide, evolve
from services.contracts.domain.schedule_plan import periods_needed
from services.contracts.domain.time_events import pending_time_events
from shared.events import public_registry, registry, to_public
from shared.events import schedule as sch
from shared.fold import fold
from tests.unit.contracts.contracts_helpers import CLIENT_ID, CONTRACT_ID, client, d


def run(state, command, stream):
    events = decide(command, state)
    for e in events:
        state = evolve(state, e)
    stream.extend(events)
    return state, events


def test_a_year_of_quarterly_prepaid_service():
    stream: list = []
    registered = client_agg.decide(RegisterClient(CLIENT_ID, "ООО Ромашка", "Ivan Petrov", "ivan@example.com"), None)
    owner = fold(client_agg.evolve, registered, None)
    assert owner == client()

    state, _ = run(None, OpenContract(CONTRACT_ID, CLIENT_ID, "A-17", "IT support", d("2025-12-20")), stream)
    n = periods_needed(d("2026-01-01"), d("2026-12-31"), "quarter")
    assert n == 4
    ids = [uuid4() for _ in range(n)]
    state, added = run(
        state,
        SchedulePeriods(
            CONTRACT_ID, ids, d("2026-01-01"), d("2026-12-31"), "quarter", Decimal("30000.00"), "RUB", "prepaid", 7
        ),
        stream,
    )
    assert [(p.starts_on.isoformat(), p.ends_on.isoformat(), p.remind_on.isoformat()) for p in state.periods] == [
        ("2026-01-01", "2026-03-31", "2026-03-24"),
        ("2026-04-01", "2026-06-30", "2026-06-23"),
        ("2026-07-01", "2026-09-30", "2026-09-23"),
        ("2026-10-01", "2026-12-31", "2026-12-24"),
    ]
    q1, q2, q3, q4 = ids

    # Q1 is marked paid before it starts.
    state, _ = run(state, RecordPayment(CONTRACT_ID, q1, uuid4(), d("2025-12-28"), None, "PP-1"), stream)

    # The scheduler ticks every day of the year (and one day past it).
    emitted: dict[date, list] = {}
    day = d("2025-12-29")
    while day <= d("2027-01-02"):
        state, events = run(state, EmitDueTimeEvents(CONTRACT_ID, day, owner), stream)
        if events:
            emitted[day] = events
        day += timedelta(days=1)

    def names(on: str):
        return [type(e).__name__ for e in emitted.get(d(on), [])]

    assert names("2026-01-01") == ["ServicePeriodStarted"]  # Q1 paid: not overdue
    assert names("2026-03-24") == ["ServicePeriodEndingSoon"]
    reminder = emitted[d("2026-03-24")][0]
    assert reminder.period.period_id == q1 and reminder.period.paid
    assert (reminder.next_period.period_id, reminder.next_period.amount, reminder.next_period.due_on) == (
        q2,
        Decimal("30000.00"),
        d("2026-04-01"),
    )
    assert reminder.manager_email == "ivan@example.com"
    assert names("2026-04-01") == ["ServicePeriodEnded", "ServicePeriodStarted", "ServicePeriodBecameOverdue"]
    assert emitted[d("2026-04-01")][2].amount_due == Decimal("30000.00")
    assert names("2027-01-01") == ["ServicePeriodEnded"]
    assert emitted[d("2026-12-24")][0].next_period is None
    assert sum(len(v) for v in emitted.values()) == 4 * 3 + 3  # started/ended/reminder ×4, 3 overdue
    assert pending_time_events(state) == []

    overdue = {p.period_id for p in state.periods if p.overdue_flag and not p.paid}
    assert overdue == {q2, q3, q4}

    # Q2 is finally paid: the debt is settled; a retried request with the same reference is a no-op.
    state, events = run(state, RecordPayment(CONTRACT_ID, q2, uuid4(), d("2027-01-10"), None, "PP-2"), stream)
    assert [type(e).__name__ for e in events] == ["PaymentRecorded", "DebtSettled"]
    assert decide(RecordPayment(CONTRACT_ID, q2, uuid4(), d("2027-01-10"), None, "PP-2"), state) == []

    # The stream folds back to the same state and every payload survives the wire.
    assert fold(evolve, stream, None) == state and state.version == len(stream)
    reloaded = [registry.load(e.event_type, e.schema_version, e.model_dump(mode="json")) for e in stream]
    assert reloaded == stream
    public = [p for p in map(to_public, stream) if p is not None]
    assert [p.event_type for p in public] == (
        ["PaymentRecorded"] + ["PeriodBecameOverdue"] * 3 + ["PaymentRecorded", "DebtSettled"]
    )
    for p in public:
        assert public_registry.load(p.event_type, p.schema_version, p.model_dump(mode="json")) == p
    assert any(isinstance(e, sch.ServicePeriodEndingSoon) for e in stream)
