"""One client's history, decided by the contracts domain itself (no event is hand-made).

A client registers, signs its contracts, schedules their periods and pays — on time, late,
in parts, or not at all — and the scheduler emits every time event as its date comes, in
the order the real system would have written them: ``EmitDueTimeEvents`` up to the day
before each payment, the payment, and finally everything due up to "today". The commands
go through ``decide``/``evolve`` of the real aggregates, so every rule (no overlap, a
payment at most what is owed, DebtSettled after an overdue period is paid) holds.

The mix (per contract unless said otherwise), chosen to look like a service company's book:

* cadence: monthly 50 %, quarterly 40 %, yearly 10 %; prepaid 65 %, postpaid 35 %;
* timing: 60 % running today, 28 % finished in the past, 12 % starting in the next 3 months;
* 70 % of contracts remind 10 days before a period ends; 3 % were terminated early;
* clients (per client): 75 % pay on time (some in advance), 15 % pay late, 10 % are debtors
  who leave their last 1-3 due periods unpaid; 5 % of payments come in two parts, 0.5 %
  are cancelled by mistake and recorded again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar

from dateutil.relativedelta import relativedelta

from services.contracts.domain import client as client_agg
from services.contracts.domain import contract as contract_agg
from services.contracts.domain.client import ClientState
from services.contracts.domain.commands import (
    CancelPayment,
    EmitDueTimeEvents,
    Every,
    OpenContract,
    RecordPayment,
    RegisterClient,
    SchedulePeriods,
    TerminateContract,
)
from services.contracts.domain.contract import ContractState
from services.contracts.domain.schedule_plan import STEP_MONTHS
from shared.events.base import EventData
from shared.eventstore.records import NewEvent

EVERY_WEIGHTS: tuple[tuple[Every, int], ...] = (("month", 50), ("quarter", 40), ("year", 10))
MONTHLY_PRICE = (Decimal(5_000), Decimal(60_000))
CURRENCIES = (("RUB", 95), ("EUR", 3), ("USD", 2))
COMPANY_WORDS = (
    "Ромашка",
    "Вектор",
    "Север",
    "Гранит",
    "Альфа",
    "Техно",
    "Прогресс",
    "Меридиан",
    "Орион",
    "Сфера",
    "Квант",
    "Стройка",
    "Логистик",
    "Фарма",
    "Агро",
    "Медиа",
)
PEOPLE = (
    "Ирина Петрова",
    "Олег Смирнов",
    "Анна Сидорова",
    "Пётр Иванов",
    "Мария Кузнецова",
    "Дмитрий Попов",
    "Елена Соколова",
    "Сергей Лебедев",
)


@dataclass(frozen=True)
class StreamWrite:
    """All events of one new stream, appended in one transaction (expected version 0)."""

    stream_id: str
    partition_key: str
    events: list[NewEvent]
    contract: ContractState | None = None
    """The final contract state (its pending time events are written with it)."""


T = TypeVar("T")


def _weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=UTC)


class _Stream:
    """Collects the events a sequence of commands produces, folding them as it goes."""

    def __init__(self) -> None:
        self.state: ContractState | None = None
        self.events: list[NewEvent] = []

    def run(self, command: object, on: date) -> list[EventData]:
        produced = contract_agg.decide(command, self.state)  # type: ignore[arg-type]  # the story only sends contract commands
        for e in produced:
            self.state = contract_agg.evolve(self.state, e)
            self.events.append(
                NewEvent(
                    uuid.UUID(int=random.getrandbits(128), version=4),
                    e.event_type,
                    e.schema_version,
                    e.model_dump(mode="json"),
                    _at(on),
                )
            )
        return produced


def _span(every: str, n: int) -> relativedelta:
    return relativedelta(months=STEP_MONTHS[every] * n)


def _timing(rng: random.Random, every: str, n: int, today: date) -> date:
    """The first day of the contract's first period."""
    days = ((today + _span(every, n)) - today).days
    roll = rng.random()
    if roll < 0.60:  # running today
        start = today - timedelta(days=rng.randrange(0, max(days, 1)))
    elif roll < 0.88:  # finished
        start = today - timedelta(days=days + rng.randrange(1, 400))
    else:  # starts soon
        start = today + timedelta(days=rng.randrange(1, 92))
    return start.replace(day=1) if rng.random() < 0.8 else start


class PaymentHabit:
    def __init__(self, rng: random.Random) -> None:
        roll = rng.random()
        self.kind = "on_time" if roll < 0.75 else "late" if roll < 0.90 else "debtor"
        self.unpaid_tail = rng.randint(1, 3)


def _payments(
    rng: random.Random, stream: _Stream, habit: PaymentHabit, signed_on: date, today: date
) -> list[tuple[date, RecordPayment]]:
    state = stream.state
    assert state is not None
    due = [p for p in state.periods if p.due_on <= today + timedelta(days=30)]
    out: list[tuple[date, RecordPayment]] = []
    for i, period in enumerate(due):
        past_due = period.due_on <= today
        if not past_due:  # due within a month: some pay in advance
            if habit.kind != "on_time" or rng.random() > 0.3:
                continue
            paid_on = today - timedelta(days=rng.randrange(0, 5))
        elif habit.kind == "on_time":
            paid_on = period.due_on - timedelta(days=rng.randrange(0, 10))
        elif habit.kind == "late":
            paid_on = period.due_on + timedelta(days=rng.randrange(5, 60))
        else:  # debtor: pays about half of the old ones, none of the last few
            if i >= len(due) - habit.unpaid_tail or rng.random() < 0.5:
                continue
            paid_on = period.due_on + timedelta(days=rng.randrange(0, 90))
        paid_on = max(min(paid_on, today), signed_on)
        if paid_on > today:
            continue
        if rng.random() < 0.05:  # in two parts
            first = (period.amount * Decimal("0.4")).quantize(Decimal("0.01"))
            out.append((paid_on, RecordPayment(state.id, period.period_id, _uuid(rng), paid_on, first)))
            later = min(paid_on + timedelta(days=rng.randrange(3, 30)), today)
            out.append((later, RecordPayment(state.id, period.period_id, _uuid(rng), later, None)))
        else:
            out.append(
                (
                    paid_on,
                    RecordPayment(
                        state.id, period.period_id, _uuid(rng), paid_on, None, f"PP-{rng.randrange(10**8):08d}"
                    ),
                )
            )
    return sorted(out, key=lambda a: a[0])


def contract_story(
    rng: random.Random, client: ClientState, number: int, n_periods: int, habit: PaymentHabit, today: date
) -> StreamWrite:
    every = _weighted(rng, EVERY_WEIGHTS)
    starts_on = _timing(rng, every, n_periods, today)
    ends_on = starts_on + _span(every, n_periods) - timedelta(days=1)
    signed_on = starts_on - timedelta(days=rng.randrange(0, 30))
    contract_id = _uuid(rng)
    s = _Stream()
    s.run(
        OpenContract(
            contract_id,
            client.id,
            f"{client.name[:3].upper()}-{number:06d}",
            f"Абонентское обслуживание ({every})",
            signed_on,
        ),
        signed_on,
    )
    monthly = Decimal(rng.randrange(int(MONTHLY_PRICE[0]), int(MONTHLY_PRICE[1]), 500))
    s.run(
        SchedulePeriods(
            contract_id,
            [_uuid(rng) for _ in range(n_periods)],
            starts_on,
            ends_on,
            every,
            monthly * STEP_MONTHS[every],
            _weighted(rng, CURRENCIES),
            "prepaid" if rng.random() < 0.65 else "postpaid",
            10 if rng.random() < 0.7 else None,
        ),
        signed_on,
    )
    terminated_on = None
    if rng.random() < 0.03 and starts_on < today:
        terminated_on = starts_on + timedelta(days=rng.randrange(0, max((min(ends_on, today) - starts_on).days, 1)))
    for paid_on, payment in _payments(rng, s, habit, signed_on, today):
        if terminated_on is not None and paid_on > terminated_on and s.state and s.state.active:
            s.run(EmitDueTimeEvents(contract_id, terminated_on, client), terminated_on)
            s.run(TerminateContract(contract_id, terminated_on, "клиент расторг договор", terminated_on), terminated_on)
        s.run(EmitDueTimeEvents(contract_id, paid_on - timedelta(days=1), client), paid_on)
        recorded = s.run(payment, paid_on)
        if recorded and rng.random() < 0.005:  # a mistake, cancelled and recorded again
            s.run(CancelPayment(contract_id, payment.period_id, payment.payment_id, "ошибочный платёж"), paid_on)
            s.run(RecordPayment(contract_id, payment.period_id, _uuid(rng), paid_on, payment.amount), paid_on)
    if terminated_on is not None and s.state is not None and s.state.active:
        s.run(EmitDueTimeEvents(contract_id, terminated_on, client), terminated_on)
        s.run(TerminateContract(contract_id, terminated_on, "клиент расторг договор", terminated_on), terminated_on)
    s.run(EmitDueTimeEvents(contract_id, today, client), today)
    return StreamWrite(f"contract-{contract_id}", str(client.id), s.events, s.state)


def client_story(seed: int, index: int, period_counts: list[int], today: date) -> Iterator[StreamWrite]:
    """The client's own stream first, then one stream per contract (``period_counts``)."""
    rng = random.Random(seed * 1_000_003 + index)
    random.seed(seed * 7_919 + index)  # event ids: deterministic too
    client_id = _uuid(rng)
    name = f"ООО «{rng.choice(COMPANY_WORDS)}-{index}»"
    manager = rng.choice(PEOPLE)
    command = RegisterClient(client_id, name, manager, f"manager{index}@client{index}.example")
    registered = client_agg.decide(command, None)
    state = client_agg.evolve(None, registered[0])
    earliest = today - timedelta(days=3 * 365)
    yield StreamWrite(
        f"client-{client_id}",
        str(client_id),
        [
            NewEvent(_uuid(rng), e.event_type, e.schema_version, e.model_dump(mode="json"), _at(earliest))
            for e in registered
        ],
    )
    habit = PaymentHabit(rng)
    for number, n_periods in enumerate(period_counts, 1):
        yield contract_story(rng, state, index * 100 + number, n_periods, habit, today)
