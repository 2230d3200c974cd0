"""NOTIFY_SMTP_TLS against a real SMTP server that offers no STARTTLS (the test mailbox)."""

from __future__ import annotations

import uuid

import pytest

from services.notifier.adapters.smtp import SmtpConfig, SmtpSender
from services.notifier.domain.emails import OutgoingEmail
from services.notifier.domain.failures import SendFailure, Stage
from services.notifier.domain.message_ids import message_id
from tests.integration.notifier.mailbox import Mailbox


def _email() -> OutgoingEmail:
    event_id, recipient = uuid.uuid4(), "irina@example.com"
    return OutgoingEmail(
        event_id=event_id,
        kind="reminder",
        recipient=recipient,
        role="manager",
        sender="abonent@example.com",
        message_id=message_id(event_id, recipient, "example.com"),
        subject="Reminder",
        text="text",
        html="<p>text</p>",
    )


async def test_starttls_never_falls_back_to_clear_text(mailbox: Mailbox) -> None:
    email = _email()
    with pytest.raises(SendFailure) as failure:
        await SmtpSender(SmtpConfig("127.0.0.1", mailbox.port, tls="starttls", timeout=5)).send(email)
    assert failure.value.stage is Stage.TLS
    assert mailbox.for_event(email.event_id) == []


async def test_none_sends_in_clear_text_to_the_local_sink(mailbox: Mailbox) -> None:
    email = _email()
    await SmtpSender(SmtpConfig("127.0.0.1", mailbox.port, tls="none", timeout=5)).send(email)
    assert len(mailbox.for_event(email.event_id)) == 1
