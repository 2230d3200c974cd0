"""Who gets what: which schedule events become e-mails, and to whom.

- ``ServicePeriodEndingSoon`` → a ``reminder``; ``ServicePeriodBecameOverdue`` → a
  ``debt_notice``. Both go to the client's responsible manager AND every general address
  from the settings (``NOTIFY_GENERAL_EMAIL``), one e-mail per recipient; an address named
  twice (the manager is also a general address) gets one e-mail.
- ``ServicePeriodStarted`` / ``ServicePeriodEnded`` produce nothing (acknowledged, ignored).
- ``InvoiceIssued`` (``contracts.events.v1``) → an ``invoice``, with the PDF, to the client's
  ``billing_email`` (its accountant) and a copy to the manager — not to the general
  addresses. The other business facts are skipped by their header before decoding
  (``application/notify.py``); one that reaches here anyway is not a notification.
- No manager e-mail in the event: the general addresses still get it, with a warning.
- A manager e-mail that is not an address: that recipient is *rejected* (recorded and
  dead-lettered with the reason); the general addresses still get theirs.
- Nobody at all to write to: the whole event is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.notifier.domain.addresses import InvalidAddress, normalize, same_mailbox_key
from shared.events.base import EventData
from shared.events.contracts import InvoiceIssued
from shared.events.schedule import (
    SCHEDULE_EVENTS,
    ServicePeriodBecameOverdue,
    ServicePeriodEndingSoon,
)

NotificationKind = Literal["reminder", "debt_notice", "invoice"]
Role = Literal["manager", "general", "billing"]


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    role: Role
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRecipient:
    address: str
    role: Role
    reason: str


@dataclass(frozen=True, slots=True)
class Audience:
    recipients: tuple[Recipient, ...]
    rejected: tuple[RejectedRecipient, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def nobody(self) -> bool:
        return not self.recipients and not self.rejected


class NotAScheduleEvent(ValueError):
    """An event of another topic arrived on the schedule topic."""


def kind_of(payload: EventData) -> NotificationKind | None:
    """The notification an event asks for; ``None`` for schedule events that need none."""
    if isinstance(payload, ServicePeriodEndingSoon):
        return "reminder"
    if isinstance(payload, ServicePeriodBecameOverdue):
        return "debt_notice"
    if isinstance(payload, InvoiceIssued):
        return "invoice"
    if isinstance(payload, SCHEDULE_EVENTS):
        return None
    raise NotAScheduleEvent(f"{payload.event_type} is not a schedule event")


def audience(manager_name: str, manager_email: str | None, general: Sequence[str]) -> Audience:
    """The manager (if the event names a valid address) followed by the general addresses."""
    recipients: list[Recipient] = []
    rejected: list[RejectedRecipient] = []
    warnings: list[str] = []
    seen: set[str] = set()
    if manager_email is None or not manager_email.strip():
        warnings.append(
            f"client's manager {manager_name!r} has no e-mail address; "
            "only the general address(es) get this notification"
        )
    else:
        try:
            address = normalize(manager_email)
        except InvalidAddress as exc:
            rejected.append(
                RejectedRecipient(manager_email.strip(), "manager", f"invalid manager e-mail: {exc.reason}")
            )
        else:
            recipients.append(Recipient(address, "manager", manager_name))
            seen.add(same_mailbox_key(address))
    for raw in general:
        try:
            address = normalize(raw)
        except InvalidAddress as exc:
            rejected.append(RejectedRecipient(raw.strip(), "general", f"invalid general e-mail: {exc.reason}"))
            continue
        if same_mailbox_key(address) not in seen:
            seen.add(same_mailbox_key(address))
            recipients.append(Recipient(address, "general"))
    if not general:
        warnings.append("no general address configured (NOTIFY_GENERAL_EMAIL)")
    return Audience(tuple(recipients), tuple(rejected), tuple(warnings))


def invoice_audience(billing_email: str | None, manager_name: str, manager_email: str | None) -> Audience:
    """The client's billing address (when set), then the manager; nobody general."""
    who = audience(manager_name, manager_email, ())
    warnings = tuple(w for w in who.warnings if "NOTIFY_GENERAL_EMAIL" not in w)
    if billing_email is None or not billing_email.strip():
        return Audience(who.recipients, who.rejected, (*warnings, "the client has no billing e-mail"))
    try:
        address = normalize(billing_email)
    except InvalidAddress as exc:
        rejected = RejectedRecipient(billing_email.strip(), "billing", f"invalid billing e-mail: {exc.reason}")
        return Audience(who.recipients, (rejected, *who.rejected), warnings)
    others = tuple(r for r in who.recipients if same_mailbox_key(r.address) != same_mailbox_key(address))
    return Audience((Recipient(address, "billing"), *others), who.rejected, warnings)
