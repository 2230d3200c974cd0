"""Decisions on payments: record one against a period, cancel one recorded by mistake.

A payment is in the period's currency (its minor units), greater than zero and at most what
is still owed; a fully paid period takes no more; ``paid_on`` is at most the bound the
command carries (tomorrow in the company's zone). A payment that completes a period already
announced overdue also settles the debt (DebtSettled).

A ``reference`` names one payment on a contract (a receipt's parts share one). The same
reference with the same period, amount and date is the retry of that payment: nothing is
recorded and the application answers with the original (``retried``). The same reference
with anything else is ``409 reference_used`` naming the recorded payment. A cancelled
payment frees its reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from services.contracts.domain.commands import CancelPayment, RecordPayment
from services.contracts.domain.period_rules import require_period
from services.contracts.domain.periods import Payment, Period, check_amount
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.base import EventData
from shared.events.contracts import DebtSettled, PaymentCancelled, PaymentRecorded
from shared.money import in_currency, money_text

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState

MAX_REFERENCE = 100


def clean_reference(value: str | None) -> str | None:
    """The reference as stored (trimmed; empty is none); RuleViolated when too long."""
    reference = value.strip() or None if value is not None else None
    if reference is not None and len(reference) > MAX_REFERENCE:
        raise RuleViolated(
            "reference_too_long",
            f"reference must be at most {MAX_REFERENCE} characters, not {len(reference)}",
            "reference",
        )
    return reference


def check_paid_on(paid_on: date, latest: date | None) -> None:
    if latest is not None and paid_on > latest:
        raise RuleViolated(
            "paid_on_in_future",
            f"paid_on {paid_on.isoformat()} is in the future: the latest date accepted "
            f"is {latest.isoformat()} (tomorrow in the company's time zone)",
            "paid_on",
        )


def describe_recorded(payments: Sequence[Payment], currency: str | None) -> str:
    """How a 409 names what a reference already records."""
    first = payments[0]
    total = sum((p.amount for p in payments), Decimal(0))
    money = money_text(total, currency) if currency else str(total)
    if first.receipt_id is not None:
        return (
            f"receipt {first.receipt_id} of {money} paid on {first.paid_on.isoformat()} "
            f"(payments {', '.join(str(p.payment_id) for p in payments)})"
        )
    return f"payment {first.payment_id} of {money} paid on {first.paid_on.isoformat()} for period {first.period_id}"


def reference_used(reference: str, recorded: Sequence[Payment], currency: str | None) -> Conflict:
    return Conflict(
        "reference_used",
        f'reference "{reference}" is already used by '
        f"{describe_recorded(recorded, currency)}; a retry must repeat its values, and "
        "another payment needs another reference",
        "reference",
    )


def retried(command: RecordPayment, recorded: Sequence[Payment]) -> bool:
    """Whether ``command`` repeats the payment ``recorded`` under its reference (an omitted
    amount — "the rest" — repeats whatever amount that was)."""
    if len(recorded) != 1 or recorded[0].receipt_id is not None:
        return False
    original = recorded[0]
    return (
        original.period_id == command.period_id
        and original.paid_on == command.paid_on
        and (command.amount is None or command.amount == original.amount)
    )


def payment_events(
    state: ContractState,
    period: Period,
    payment_id: UUID,
    amount: Decimal,
    paid_on: date,
    reference: str | None,
    receipt_id: UUID | None = None,
    field: str = "amount",
) -> list[EventData]:
    """PaymentRecorded (and DebtSettled when it completes an overdue period) for one valid
    part; the checks every payment obeys, whichever endpoint took it."""
    cur = period.currency
    if period.paid:
        raise RuleViolated(
            "period_paid",
            f"{period.describe()} is already paid in full "
            f"({money_text(period.paid_amount, cur)} of {money_text(period.amount, cur)})",
            field.replace("amount", "period_id"),
        )
    if isinstance(amount, Decimal) and amount.is_finite() and amount <= 0:
        raise RuleViolated(
            "payment_not_positive", f"a payment must be greater than zero, not {money_text(amount, cur)}", field
        )
    check_amount(amount, cur, field)
    if amount > period.owed:
        raise RuleViolated(
            "payment_exceeds_owed",
            f"payment {money_text(amount, cur)} exceeds the {money_text(period.owed, cur)} "
            f"still owed on {'this period' if field == 'amount' else period.describe()}",
            field,
        )
    amount = in_currency(amount, cur)
    paid_after = in_currency(period.paid_amount + amount, cur)
    paid = paid_after >= period.amount
    events: list[EventData] = [
        PaymentRecorded(
            contract_id=state.id,
            client_id=state.client_id,
            period_id=period.period_id,
            payment_id=payment_id,
            amount=amount,
            currency=cur,
            paid_on=paid_on,
            reference=reference,
            period_paid_amount=paid_after,
            period_paid=paid,
            receipt_id=receipt_id,
        )
    ]
    if paid and period.overdue_flag:
        events.append(
            DebtSettled(
                contract_id=state.id,
                client_id=state.client_id,
                period_id=period.period_id,
                payment_id=payment_id,
                amount=period.amount,
                currency=cur,
                settled_on=paid_on,
            )
        )
    return events


def record(command: RecordPayment, state: ContractState) -> list[EventData]:
    reference = clean_reference(command.reference)
    if reference is not None:
        recorded = state.payments_under(reference)
        if recorded:
            if retried(command, recorded):
                return []
            raise reference_used(reference, recorded, state.currency)
    period = require_period(state, command.period_id)
    if state.payment(command.payment_id) is not None:
        raise Conflict("payment_exists", f"payment {command.payment_id} already exists", "payment_id")
    check_paid_on(command.paid_on, command.latest_paid_on)
    amount = period.owed if command.amount is None else command.amount
    return payment_events(state, period, command.payment_id, amount, command.paid_on, reference)


def cancel(command: CancelPayment, state: ContractState) -> list[EventData]:
    period = require_period(state, command.period_id)
    payment = period.payment(command.payment_id)
    if payment is None:
        raise NotFound(
            "payment_not_found", f"payment {command.payment_id} is not recorded on {period.describe()}", "payment_id"
        )
    if payment.cancelled:
        raise RuleViolated("payment_cancelled", f"payment {payment.payment_id} was already cancelled", "payment_id")
    if not command.reason or not command.reason.strip():
        raise RuleViolated("required", "reason must not be empty", "reason")
    paid_after = period.paid_amount - payment.amount
    return [
        PaymentCancelled(
            contract_id=state.id,
            client_id=state.client_id,
            period_id=period.period_id,
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=period.currency,
            reason=command.reason.strip(),
            period_paid_amount=paid_after,
            period_paid=paid_after >= period.amount,
        )
    ]
