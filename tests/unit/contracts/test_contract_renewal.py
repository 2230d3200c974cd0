"""Renewal (issue 17): by hand and automatically, indexed and rounded, exactly once."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import EmitDueTimeEvents, RenewContract, SetAutoRenew, TerminateContract
from services.contracts.domain.renewal import indexed, renewal_period_id
from services.contracts.domain.time_events import pending_time_events
from shared.domain_errors import RuleViolated
from shared.events import contracts as ev
from shared.events import schedule as sch
from tests.unit.contracts.contracts_helpers import CONTRACT_ID, added, client, d, given, opened, then_state, when

Q = [uuid4() for _ in range(4)]
YEAR = (
    opened(),
    added(Q[0], "2026-01-01", "2026-03-31", amount="45000.00"),
    added(Q[1], "2026-04-01", "2026-06-30", amount="45000.00"),
    added(Q[2], "2026-07-01", "2026-09-30", amount="45000.00"),
    ev.ServicePeriodAdded(
        contract_id=CONTRACT_ID,
        client_id=added(Q[3], "2026-10-01", "2026-12-31").client_id,
        period_id=Q[3],
        starts_on=d("2026-10-01"),
        ends_on=d("2026-12-31"),
        amount="45000.00",
        currency="RUB",
        payment_terms="prepaid",
        remind_on=d("2026-12-21"),
        remind_days_before=10,
    ),
)


def tick(as_of: str) -> EmitDueTimeEvents:
    return EmitDueTimeEvents(CONTRACT_ID, d(as_of), client(), now=datetime.fromisoformat(as_of + "T12:00:00+00:00"))


def test_indexation_rounds_to_the_currencys_minor_unit():
    assert indexed(Decimal("45000.00"), Decimal(5), "RUB") == Decimal("47250.00")
    assert indexed(Decimal("10.10"), Decimal(5), "RUB") == Decimal("10.61")  # 10.605: half-up, not to even
    assert indexed(Decimal("1000"), Decimal("2.5"), "JPY") == Decimal("1025")


def test_renew_by_hand_continues_the_last_term_with_indexed_amounts():
    events = when(given(*YEAR), RenewContract(CONTRACT_ID, d("2027-12-31"), Decimal(5)))
    renewed, *periods = events
    assert isinstance(renewed, ev.ContractRenewed)
    assert (renewed.starts_on, renewed.through, renewed.every, renewed.amount) == (
        d("2027-01-01"),
        d("2027-12-31"),
        "quarter",
        Decimal("47250.00"),
    )
    assert renewed.automatic is False and renewed.after_period_id == Q[3]
    assert [(p.starts_on, p.ends_on, p.amount, p.payment_terms) for p in periods] == [
        (d("2027-01-01"), d("2027-03-31"), Decimal("47250.00"), "prepaid"),
        (d("2027-04-01"), d("2027-06-30"), Decimal("47250.00"), "prepaid"),
        (d("2027-07-01"), d("2027-09-30"), Decimal("47250.00"), "prepaid"),
        (d("2027-10-01"), d("2027-12-31"), Decimal("47250.00"), "prepaid"),
    ]
    assert (
        [p.period_id for p in periods]
        == renewed.period_ids
        == [renewal_period_id(CONTRACT_ID, p.starts_on) for p in periods]
    )
    assert periods[-1].remind_on == d("2027-12-21")  # the reminder offset carries over


def test_renew_with_another_period_length_and_a_prorated_stub():
    events = when(given(*YEAR), RenewContract(CONTRACT_ID, d("2027-02-15"), Decimal(0), every="month"))
    assert [(p.starts_on, p.ends_on, p.amount) for p in events[1:]] == [
        (d("2027-01-01"), d("2027-01-31"), Decimal("45000.00")),
        (d("2027-02-01"), d("2027-02-15"), Decimal("24107.14")),  # 15 of 28 days
    ]


@pytest.mark.parametrize(
    ("through", "rule"),
    [("2026-12-31", "through_not_after_last_period"), ("2026-06-30", "through_not_after_last_period")],
)
def test_renew_refuses_a_through_not_after_the_last_period(through, rule):
    with pytest.raises(RuleViolated) as err:
        when(given(*YEAR), RenewContract(CONTRACT_ID, d(through)))
    assert err.value.rule == rule and err.value.field == "through"


def test_renew_refuses_a_terminated_contract():
    _, state = then_state(given(*YEAR), TerminateContract(CONTRACT_ID, d("2026-05-01"), "moved", today=d("2026-05-02")))
    with pytest.raises(RuleViolated) as err:
        when(state, RenewContract(CONTRACT_ID, d("2027-12-31")))
    assert err.value.rule == "contract_terminated"


def auto(enabled: bool = True, notice_days: int = 30, pct: str = "5") -> SetAutoRenew:
    return SetAutoRenew(CONTRACT_ID, enabled, notice_days, Decimal(pct))


def test_auto_renewal_happens_notice_days_before_the_end_exactly_once():
    _, state = then_state(given(*YEAR), auto())
    assert [t for t in pending_time_events(state) if t.kind == "renew"][0].due_on == d("2026-12-01")
    assert not [e for e in when(state, tick("2026-11-30")) if isinstance(e, ev.ContractRenewed)]
    events, state = then_state(state, tick("2026-12-01"))
    renewed = [e for e in events if isinstance(e, ev.ContractRenewed)]
    assert len(renewed) == 1 and renewed[0].automatic and renewed[0].through == d("2027-12-31")
    assert renewed[0].amount == Decimal("47250.00")
    assert not [e for e in when(state, tick("2026-12-02")) if isinstance(e, ev.ContractRenewed)]
    # the next renewal is armed for the new last period's end
    assert [t.due_on for t in pending_time_events(state) if t.kind == "renew"] == [d("2027-12-01")]


def test_auto_renewal_turned_off_before_its_day_does_nothing():
    _, state = then_state(given(*YEAR), auto())
    _, state = then_state(state, auto(enabled=False))
    assert not [t for t in pending_time_events(state) if t.kind == "renew"]
    events = when(state, tick("2027-01-05"))
    assert not [e for e in events if isinstance(e, ev.ContractRenewed)]


def test_the_last_periods_reminder_says_whether_it_renews_and_at_what_cost():
    _, state = then_state(given(*YEAR), auto(notice_days=5))  # renews on 26 December
    events, _ = then_state(state, tick("2026-12-21"))
    reminder = next(e for e in events if isinstance(e, sch.ServicePeriodEndingSoon))
    assert reminder.next_period is None and reminder.contract_ends_on is None
    assert reminder.renewal is not None
    assert (reminder.renewal.renews_on, reminder.renewal.amount, reminder.renewal.through) == (
        d("2026-12-26"),
        Decimal("47250.00"),
        d("2027-12-31"),
    )


def test_without_renewal_the_reminder_says_when_the_contract_ends():
    events = when(given(*YEAR), tick("2026-12-21"))
    reminder = next(e for e in events if isinstance(e, sch.ServicePeriodEndingSoon))
    assert reminder.renewal is None and reminder.contract_ends_on == d("2026-12-31")


def test_a_renewal_before_the_reminder_makes_the_next_period_appear_in_it():
    _, state = then_state(given(*YEAR), auto(notice_days=30))
    events, _ = then_state(state, tick("2026-12-21"))  # renews on 1 December, reminder on 21 December
    reminder = next(e for e in events if isinstance(e, sch.ServicePeriodEndingSoon))
    assert reminder.next_period is not None and reminder.next_period.amount == Decimal("47250.00")
    assert reminder.next_period.starts_on == date(2027, 1, 1)
    assert datetime(2026, 12, 21, tzinfo=UTC)  # the tick's moment: nothing here is late
    assert reminder.late is False
