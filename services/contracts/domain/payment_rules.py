"""Decisions on payments: record one against a period, cancel one recorded by mistake.

A payment is in the period's currency, greater than zero and at most what is still owed;
a fully paid period takes no more. A ``reference`` already recorded on the contract (and
not cancelled) makes RecordPayment a no-op — a retried request must not pay twice — unless
it was recorded on another period, which is a Conflict. A payment that completes a period
already announced overdue also settles the debt (DebtSettled).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from services.contracts.domain.commands import CancelPayment, RecordPayment
from services.contracts.domain.errors import Conflict, NotFound, RuleViolated
from services.contracts.domain.period_rules import require_period
from services.contracts.domain.periods import check_amount
from shared.events.base import EventData
from shared.events.contracts import DebtSettled, PaymentCancelled, PaymentRecorded
from shared.money import money_text

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState


def _reference(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def record(command: RecordPayment, state: ContractState) -> list[EventData]:
    reference = _reference(command.reference)
    if reference is not None:
        existing = state.payment_by_reference(reference)
        if existing is not None:
            if existing.period_id != command.period_id:
                raise Conflict("reference_used",
                               f"reference {reference!r} is already recorded as payment "
                               f"{existing.payment_id} on another period ({existing.period_id})",
                               "reference")
            return []
    period = require_period(state, command.period_id)
    if state.payment(command.payment_id) is not None:
        raise Conflict("payment_exists", f"payment {command.payment_id} already exists", "payment_id")
    cur = period.currency
    if period.paid:
        raise RuleViolated("period_paid",
                           f"{period.describe()} is already paid in full "
                           f"({money_text(period.paid_amount, cur)} of {money_text(period.amount, cur)})",
                           "period_id")
    amount = period.owed if command.amount is None else command.amount
    if isinstance(amount, Decimal) and amount.is_finite() and amount <= 0:
        raise RuleViolated("payment_not_positive",
                           f"a payment must be greater than zero, not {money_text(amount, cur)}", "amount")
    check_amount(amount, cur)
    if amount > period.owed:
        raise RuleViolated("payment_exceeds_owed",
                           f"payment {money_text(amount, cur)} exceeds the {money_text(period.owed, cur)} "
                           "still owed on this period", "amount")
    paid_after = period.paid_amount + amount
    paid = paid_after >= period.amount
    events: list[EventData] = [PaymentRecorded(
        contract_id=state.id, client_id=state.client_id, period_id=period.period_id,
        payment_id=command.payment_id, amount=amount, currency=cur, paid_on=command.paid_on,
        reference=reference, period_paid_amount=paid_after, period_paid=paid)]
    if paid and period.overdue_flag:
        events.append(DebtSettled(
            contract_id=state.id, client_id=state.client_id, period_id=period.period_id,
            payment_id=command.payment_id, amount=period.amount, currency=cur,
            settled_on=command.paid_on))
    return events


def cancel(command: CancelPayment, state: ContractState) -> list[EventData]:
    period = require_period(state, command.period_id)
    payment = period.payment(command.payment_id)
    if payment is None:
        raise NotFound("payment_not_found",
                       f"payment {command.payment_id} is not recorded on {period.describe()}", "payment_id")
    if payment.cancelled:
        raise RuleViolated("payment_cancelled",
                           f"payment {payment.payment_id} was already cancelled", "payment_id")
    if not command.reason or not command.reason.strip():
        raise RuleViolated("required", "reason must not be empty", "reason")
    paid_after = period.paid_amount - payment.amount
    return [PaymentCancelled(
        contract_id=state.id, client_id=state.client_id, period_id=period.period_id,
        payment_id=payment.payment_id, amount=payment.amount, currency=period.currency,
        reason=command.reason.strip(), period_paid_amount=paid_after,
        period_paid=paid_after >= period.amount)]
