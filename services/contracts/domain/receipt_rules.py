"""Receipts: one bank payment over several periods, recorded as one PaymentRecorded per
period, all carrying the same ``reference`` and ``receipt_id``.

- With ``allocations`` the caller says how much goes to which period; they must name known,
  distinct periods and add up to the amount.
- Without, the amount pays the oldest owed periods first (``shared.owed.oldest_first``: by
  due day; void and fully paid periods are skipped). A period not yet due is still owed —
  paying Q3 and Q4 at once is the common case.
- More than everything still owed on the contract is ``payment_exceeds_owed``.
- The same reference, amount, date (and allocations, when given) is a retry of the whole
  receipt: nothing is recorded and the application answers with the original. Anything
  else under that reference is ``409 reference_used``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from services.contracts.domain.commands import Allocation, RecordReceipt
from services.contracts.domain.payment_rules import (
    check_paid_on,
    clean_reference,
    payment_events,
    reference_used,
)
from services.contracts.domain.periods import Payment, Period, check_amount
from shared.domain_errors import RuleViolated
from shared.events.base import EventData
from shared.money import money_text
from shared.owed import allocate, is_void, oldest_first

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState


def part_id(receipt_id: UUID, period_id: UUID) -> UUID:
    """The payment id of a receipt's part for one period: the same on every retry."""
    return uuid5(receipt_id, str(period_id))


def retried(command: RecordReceipt, recorded: Sequence[Payment]) -> bool:
    """Whether ``command`` repeats the receipt recorded under its reference."""
    receipts = {p.receipt_id for p in recorded}
    if len(receipts) != 1 or None in receipts:
        return False
    if any(p.paid_on != command.paid_on for p in recorded):
        return False
    if sum((p.amount for p in recorded), Decimal(0)) != command.amount:
        return False
    if command.allocations is None:
        return True
    given = sorted((a.period_id.int, a.amount) for a in command.allocations)
    return given == sorted((p.period_id.int, p.amount) for p in recorded)


def _owed_total(state: ContractState) -> Decimal:
    return sum((p.owed for p in oldest_first(state.periods, state.terminated_on)), Decimal(0))


def _oldest_first(command: RecordReceipt, state: ContractState, currency: str) -> list[tuple[Period, Decimal]]:
    owed = [(p, p.owed) for p in oldest_first(state.periods, state.terminated_on) if not p.paid]
    parts, left = allocate(command.amount, owed)
    if left > 0:
        raise RuleViolated(
            "payment_exceeds_owed",
            f"payment {money_text(command.amount, currency)} exceeds the "
            f"{money_text(_owed_total(state), currency)} still owed on contract "
            f"{state.number}",
            "amount",
        )
    return parts


def _allocated(
    allocations: Sequence[Allocation], command: RecordReceipt, state: ContractState, currency: str
) -> list[tuple[Period, Decimal]]:
    parts: list[tuple[Period, Decimal]] = []
    seen: set[UUID] = set()
    for i, allocation in enumerate(allocations):
        field = f"allocations[{i}].period_id"
        period = state.period(allocation.period_id)
        if period is None:
            raise RuleViolated(
                "unknown_period", f"period {allocation.period_id} is not in contract {state.number}", field
            )
        if allocation.period_id in seen:
            raise RuleViolated(
                "duplicate_period", f"period {allocation.period_id} is allocated twice; give each period once", field
            )
        if is_void(period.starts_on, state.terminated_on):
            raise RuleViolated(
                "period_void",
                f"{period.describe()} starts on or after the contract's termination and is owed nothing",
                field,
            )
        seen.add(allocation.period_id)
        parts.append((period, allocation.amount))
    total = sum((a.amount for a in allocations), Decimal(0))
    if not allocations or total != command.amount:
        raise RuleViolated(
            "allocations_sum",
            f"the allocations add up to {money_text(total, currency)}, not to the "
            f"payment's {money_text(command.amount, currency)}",
            "allocations",
        )
    if total > _owed_total(state):
        raise RuleViolated(
            "payment_exceeds_owed",
            f"payment {money_text(command.amount, currency)} exceeds the "
            f"{money_text(_owed_total(state), currency)} still owed on contract "
            f"{state.number}",
            "amount",
        )
    return parts


def record(command: RecordReceipt, state: ContractState) -> list[EventData]:
    reference = clean_reference(command.reference)
    if reference is None:
        raise RuleViolated("required", "reference must not be empty: it names the bank payment", "reference")
    recorded = state.payments_under(reference)
    if recorded:
        if retried(command, recorded):
            return []
        raise reference_used(reference, recorded, state.currency)
    check_paid_on(command.paid_on, command.latest_paid_on)
    currency = state.currency
    if currency is None:
        raise RuleViolated(
            "payment_exceeds_owed", f"contract {state.number} has no periods: nothing is owed on it", "amount"
        )
    if command.amount <= 0:
        raise RuleViolated(
            "payment_not_positive",
            f"a payment must be greater than zero, not {money_text(command.amount, currency)}",
            "amount",
        )
    check_amount(command.amount, currency)
    if command.allocations is None:
        parts = _oldest_first(command, state, currency)
    else:
        parts = _allocated(command.allocations, command, state, currency)
    events: list[EventData] = []
    index = {a.period_id: i for i, a in enumerate(command.allocations or ())}
    for period, amount in parts:
        field = f"allocations[{index[period.period_id]}].amount" if command.allocations is not None else "amount"
        events += payment_events(
            state,
            period,
            part_id(command.receipt_id, period.period_id),
            amount,
            command.paid_on,
            reference,
            command.receipt_id,
            field,
        )
    return events
