"""The contracts application on the in-memory event store (no database): commands, retries of
payments and receipts, the scheduler's to-do list written with each append, and the tick."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.contracts.adapters.memory import MemoryTimeEventsDue
from services.contracts.adapters.outbox_routing import route
from services.contracts.application.commands import ContractsApplication, contract_stream
from services.contracts.application.scheduler import refuse_future, tick
from services.contracts.domain import commands as cmd
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.eventstore.memory import MemoryEventStore
from shared.eventstore.records import CommandContext
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def ctx(now: datetime = NOW) -> CommandContext:
    return CommandContext(correlation_id=str(uuid4()), actor="test", now=now)


class World:
    def __init__(self) -> None:
        self.store = MemoryEventStore(router=route)
        self.due = MemoryTimeEventsDue()
        self.app = ContractsApplication(self.store, self.due)

    async def contract(self, *periods: tuple[str, str]) -> tuple[UUID, list[UUID]]:
        """A client with one contract and prepaid periods of 30 000 RUB."""
        client_id, contract_id = uuid4(), uuid4()
        await self.app.handle_client(
            cmd.RegisterClient(client_id, "ООО Ромашка", "Ivan Petrov", "ivan@example.com"), ctx()
        )
        await self.app.handle_contract(
            cmd.OpenContract(contract_id, client_id, "A-17", "IT support", date(2025, 12, 20)), ctx()
        )
        ids = []
        for starts_on, ends_on in periods:
            ids.append(uuid4())
            await self.app.handle_contract(
                cmd.AddServicePeriod(
                    contract_id,
                    ids[-1],
                    date.fromisoformat(starts_on),
                    date.fromisoformat(ends_on),
                    Decimal("30000.00"),
                    "RUB",
                    "prepaid",
                    None,
                ),
                ctx(),
            )
        return contract_id, ids


def payment(contract_id: UUID, period_id: UUID, amount: str, reference: str | None = None) -> cmd.RecordPayment:
    return cmd.RecordPayment(contract_id, period_id, uuid4(), date(2026, 1, 10), Decimal(amount), reference, None)


async def test_a_contract_for_an_unknown_client_is_refused_and_nothing_is_written():
    world = World()
    with pytest.raises(NotFound) as missing:
        await world.app.handle_contract(cmd.OpenContract(uuid4(), uuid4(), "A-1", "x", date(2026, 1, 1)), ctx())
    assert missing.value.rule == "client_not_found"
    assert await world.store.read_all() == [] and world.store.outbox == []


async def test_each_append_routes_its_outbox_messages_and_rewrites_the_pending_time_events():
    world = World()
    contract_id, [q1] = await world.contract(("2026-01-01", "2026-03-31"))
    assert [m.topic for m in world.store.outbox] == [CONTRACTS_EVENTS] * 3
    assert {d.period_id for d in world.due.pending[contract_id]} == {q1}
    assert await world.due.contracts_due(date(2026, 1, 1), 10) == [contract_id]
    assert await world.due.contracts_due(date(2025, 12, 31), 10) == []
    state, events = await world.app.get_contract(contract_id)
    assert state.period(q1) is not None and [e.stream_version for e in events] == [1, 2]


async def test_a_payment_retried_under_its_reference_answers_with_the_original():
    world = World()
    contract_id, [q1] = await world.contract(("2026-01-01", "2026-03-31"))
    first = await world.app.record_payment(payment(contract_id, q1, "30000", "п/п 7"), ctx())
    again = await world.app.record_payment(payment(contract_id, q1, "30000", "п/п 7"), ctx())
    assert not first.retried and again.retried
    assert (again.id, again.position) == (first.id, first.position)
    assert PAYMENTS in {m.topic for m in world.store.outbox}
    state, _ = await world.app.get_contract(contract_id)
    assert state.period(q1).paid and len(state.period(q1).payments) == 1
    with pytest.raises(Conflict):  # the same reference for another amount names another payment
        await world.app.record_payment(payment(contract_id, q1, "100", "п/п 7"), ctx())


async def test_a_receipt_retried_under_its_reference_answers_with_the_original_receipt():
    world = World()
    contract_id, [q1, q2] = await world.contract(("2026-01-01", "2026-03-31"), ("2026-04-01", "2026-06-30"))
    receipt = cmd.RecordReceipt(contract_id, uuid4(), Decimal("45000"), date(2026, 1, 10), "Счёт 15", None, None)
    first = await world.app.record_receipt(receipt, ctx())
    again = await world.app.record_receipt(
        cmd.RecordReceipt(contract_id, uuid4(), Decimal("45000"), date(2026, 1, 10), "Счёт 15", None, None), ctx()
    )
    assert [(p, a) for _, p, a in first.payments] == [(q1, Decimal("30000.00")), (q2, Decimal("15000.00"))]
    assert not first.retried and again.retried
    assert (again.receipt_id, again.payments, again.position) == (first.receipt_id, first.payments, first.position)


async def test_payments_racing_on_one_contract_are_all_recorded_after_retries():
    world = World()
    contract_id, [q1] = await world.contract(("2026-01-01", "2026-03-31"))
    results = await asyncio.gather(
        *(world.app.record_payment(payment(contract_id, q1, "1000"), ctx()) for _ in range(5))
    )
    assert len({r.position for r in results}) == 5
    state, _ = await world.app.get_contract(contract_id)
    assert state.period(q1).paid_amount == Decimal("5000.00")


async def test_a_tick_emits_what_is_due_once_and_moves_the_to_do_list_on():
    world = World()
    contract_id, [q1] = await world.contract(("2026-01-01", "2026-03-31"))
    first = await tick(world.app, date(2026, 1, 10), ctx())
    assert (first.contracts, first.emitted) == (1, 2)  # Q1 started, Q1 (prepaid, unpaid) overdue
    assert [m.topic for m in world.store.outbox].count(CONTRACTS_SCHEDULE) == 2
    assert first.position == (await world.store.read_stream(contract_stream(contract_id)))[-1].position
    assert await world.due.contracts_due(date(2026, 1, 10), 10) == []
    again = await tick(world.app, date(2026, 1, 10), ctx())
    assert (again.contracts, again.emitted, again.position) == (0, 0, None)
    later = await tick(world.app, date(2026, 4, 1), ctx(datetime(2026, 4, 1, 9, tzinfo=UTC)))
    assert later.emitted >= 1 and later.contracts == 1


def test_a_tick_ahead_of_today_is_refused_unless_the_installation_allows_it():
    with pytest.raises(RuleViolated) as refused:
        refuse_future(date(2026, 1, 11), date(2026, 1, 10), allow_future=False)
    assert refused.value.rule == "as_of_in_future"
    refuse_future(date(2026, 1, 11), date(2026, 1, 10), allow_future=True)


class _OneContractAlwaysFails(ContractsApplication):
    """A contract whose time events can never be emitted (a decider bug, a date the calendar
    overflows on): its command raises every time."""

    broken: UUID | None = None

    async def handle_contract(self, command, ctx):  # the parent's signature
        if isinstance(command, cmd.EmitDueTimeEvents) and command.contract_id == self.broken:
            raise OverflowError("date value out of range")
        return await super().handle_contract(command, ctx)


async def test_a_contract_that_always_fails_is_skipped_counted_and_the_others_go_on():
    world = World()
    world.app = _OneContractAlwaysFails(world.store, world.due)
    first, _ = await world.contract(("2026-01-01", "2026-03-31"))
    second, _ = await world.contract(("2026-01-01", "2026-03-31"))
    world.app.broken = min(first, second)  # the one the tick meets first (same due day, id order)
    from services.contracts.application.scheduler import FAILED

    failed_before = FAILED._value.get()
    result = await tick(world.app, date(2026, 1, 10), ctx())
    assert (result.contracts, result.emitted, result.failed) == (1, 2, 1)
    assert FAILED._value.get() == failed_before + 1
    assert await world.due.contracts_due(date(2026, 1, 10), 10) == [world.app.broken]  # due again next tick
    world.app.broken = None  # the fix is deployed: the next tick emits it
    again = await tick(world.app, date(2026, 1, 10), ctx())
    assert (again.contracts, again.emitted, again.failed) == (1, 2, 0)


class CountingTimeEventsDue(MemoryTimeEventsDue):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def replacing(self, contract_id, due):
        self.writes += 1
        return super().replacing(contract_id, due)


async def test_an_append_that_leaves_the_pending_time_events_as_they_were_does_not_write_them():
    """A part payment leaves the period owed: its pending time events (and so the scheduler's
    rows) are what they were, and its append has no write of the caller's (one round trip on
    PostgreSQL). A payment that settles the period drops its overdue event: written."""
    world = World()
    world.due = world.app.time_events = CountingTimeEventsDue()
    contract_id, [q1] = await world.contract(("2026-02-01", "2026-02-28"))
    world.due.writes = 0
    before = world.due.pending[contract_id]
    await world.app.record_payment(payment(contract_id, q1, "100.00"), ctx())
    assert world.due.writes == 0 and world.due.pending[contract_id] == before
    await world.app.record_payment(payment(contract_id, q1, "29900.00"), ctx())
    assert world.due.writes == 1
    assert "overdue" not in {d.kind for d in world.due.pending[contract_id]}
    assert "overdue" in {d.kind for d in before}


class CountedReads(MemoryEventStore):
    def __init__(self) -> None:
        super().__init__(router=route)
        self.reads: list[str] = []

    async def read_payloads(self, stream_id: str):
        self.reads.append(stream_id)
        return await super().read_payloads(stream_id)


@pytest.mark.parametrize(("cache_size", "reads_of_the_contract"), [(1024, 0), (0, 3)])
async def test_commands_start_from_the_kept_state_unless_the_cache_is_off(cache_size, reads_of_the_contract):
    """``CONTRACTS_STATE_CACHE_SIZE``: memory against re-reads (0: each command reads its stream)."""
    store = CountedReads()
    app = ContractsApplication(store, MemoryTimeEventsDue(), state_cache_size=cache_size)
    client_id, contract_id, period_id = uuid4(), uuid4(), uuid4()
    await app.handle_client(cmd.RegisterClient(client_id, "ООО Ромашка", "Ivan Petrov", "ivan@example.com"), ctx())
    await app.handle_contract(cmd.OpenContract(contract_id, client_id, "A-1", "x", date(2026, 1, 1)), ctx())
    add = cmd.AddServicePeriod(
        contract_id, period_id, date(2026, 1, 1), date(2026, 3, 31), Decimal("100.00"), "RUB", "prepaid", None
    )
    await app.handle_contract(add, ctx())
    await app.handle_contract(payment(contract_id, period_id, "40.00"), ctx())
    await app.handle_contract(payment(contract_id, period_id, "60.00"), ctx())
    assert store.reads.count(contract_stream(contract_id)) == reads_of_the_contract
