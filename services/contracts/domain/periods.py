"""Service periods and payments as value objects, and the rules a period's values obey.

A period runs from ``starts_on`` to ``ends_on`` inclusive. When it is owed (``due_on``) and
overdue (``overdue_on``) is decided by ``shared.owed`` (docs/design.md §8), the one definition every
service uses: prepaid from its first day, postpaid from the day after its end. A period is paid when its non-cancelled
payments cover its cost (so a period costing 0 is paid from the start).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from uuid import UUID

from shared import owed
from shared.domain_errors import RuleViolated
from shared.money import (
    fits_currency,
    in_currency,
    is_active_currency,
    minor_units,
    money_text,
    round_to_currency,
)


@dataclass(frozen=True)
class Payment:
    payment_id: UUID
    period_id: UUID
    amount: Decimal
    paid_on: date
    reference: str | None = None
    cancelled: bool = False
    cancel_reason: str | None = None
    receipt_id: UUID | None = None
    version: int = 0
    """Stream version of its PaymentRecorded (the store gives that event's position)."""
    settled_version: int = 0
    """Stream version of the DebtSettled it caused, if any (recorded in the same append)."""


@dataclass(frozen=True)
class Period:
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Decimal
    currency: str
    payment_terms: str
    remind_on: date | None = None
    payments: tuple[Payment, ...] = ()
    overdue_flag: bool = False
    """True from ServicePeriodBecameOverdue until the debt is settled (paid in full or
    adjusted to what was paid): a debt announced and still open."""
    remind_days_before: int | None = None
    """When the reminder was made as "N days before the end": it moves with the end."""
    started: bool = False
    ended: bool = False
    reminded: bool = False
    """Whether ServicePeriodStarted / Ended / EndingSoon happened: each happens once."""
    overdue_count: int = 0
    """How many times ServicePeriodBecameOverdue was emitted (again after a reopened debt)."""
    reopened: bool = False
    """A cancelled payment made the period owed again after it was paid in full: its next
    overdue event is today's news whatever its date (never ``late``)."""

    # Cached on the instance: a period is immutable (every change is a new one), and these are
    # read for every period on every decision (a contract with many payments made them costly).
    @cached_property
    def active_payments(self) -> tuple[Payment, ...]:
        return tuple(p for p in self.payments if not p.cancelled)

    @cached_property
    def paid_amount(self) -> Decimal:
        return in_currency(sum((p.amount for p in self.active_payments), Decimal(0)), self.currency)

    @property
    def owed(self) -> Decimal:
        return in_currency(max(self.amount - self.paid_amount, Decimal(0)), self.currency)

    @property
    def paid(self) -> bool:
        return self.paid_amount >= self.amount

    @property
    def overpaid(self) -> Decimal:
        """Paid beyond the cost (after a prorated termination cut)."""
        return max(self.paid_amount - self.amount, Decimal("0.00"))

    @property
    def due_on(self) -> date:
        return owed.due_on(self.payment_terms, self.starts_on, self.ends_on)

    def overdue_on(self, grace_days: int = 0) -> date:
        return owed.overdue_on(self.payment_terms, self.starts_on, self.ends_on, grace_days)

    def payment(self, payment_id: UUID) -> Payment | None:
        return next((p for p in self.payments if p.payment_id == payment_id), None)

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def describe(self) -> str:
        return f"period {self.starts_on.isoformat()}..{self.ends_on.isoformat()}"


def prorated(amount: Decimal, days: int, of_days: int, currency: str) -> Decimal:
    """``amount`` × ``days`` ÷ ``of_days``, rounded to the currency's minor unit."""
    if days >= of_days:
        return amount
    return round_to_currency(amount * days / of_days, currency)


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


def check_period_values(
    starts_on: date, ends_on: date, amount: Decimal, currency: str, payment_terms: str, remind_on: date | None
) -> None:
    """The rules one period obeys on its own; raises RuleViolated naming the field."""
    if ends_on < starts_on:
        raise RuleViolated(
            "ends_before_start",
            f"the period ends on {ends_on.isoformat()}, before it starts on {starts_on.isoformat()}",
            "ends_on",
        )
    if remind_on is not None and remind_on > ends_on:
        raise RuleViolated(
            "reminder_after_end",
            f"the reminder on {remind_on.isoformat()} is after the period ends on {ends_on.isoformat()}",
            "remind_on",
        )
    if payment_terms not in owed.PAYMENT_TERMS:
        raise RuleViolated(
            "invalid_payment_terms",
            f"payment terms must be 'prepaid' or 'postpaid', not {payment_terms!r}",
            "payment_terms",
        )
    check_amount(amount, currency)


def check_amount(amount: Decimal, currency: str, field: str = "amount") -> None:
    if not is_active_currency(currency):
        raise RuleViolated("unknown_currency", f'"{currency}" is not an active ISO 4217 currency code', "currency")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RuleViolated("invalid_amount", f'{field} "{amount}" is not a decimal number', field)
    if amount < 0:
        raise RuleViolated("negative_amount", f"{field} {amount} {currency} is negative", field)
    if not fits_currency(amount, currency):
        raise RuleViolated(
            "amount_precision",
            f"{field} {amount} has more decimal places than the {minor_units(currency)} {currency} has",
            field,
        )


def check_no_overlap(period_id: UUID, starts_on: date, ends_on: date, others: Iterable[Period]) -> None:
    for other in others:
        if other.period_id != period_id and overlaps(starts_on, ends_on, other.starts_on, other.ends_on):
            raise RuleViolated(
                "period_overlap",
                f"period {starts_on.isoformat()}..{ends_on.isoformat()} overlaps "
                f"{other.describe()} ({other.period_id})",
                "starts_on",
            )


def check_same_currency(period_id: UUID, currency: str, others: Iterable[Period]) -> None:
    """One contract, one currency: set by its periods, free again when it has none."""
    for other in others:
        if other.period_id != period_id and other.currency != currency:
            raise RuleViolated(
                "currency_mismatch",
                f"this contract's periods are in {other.currency}; a period in {currency} cannot be added to it",
                "currency",
            )


def owed_text(period: Period) -> str:
    return money_text(period.owed, period.currency)
