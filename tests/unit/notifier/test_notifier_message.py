"""The MIME message the SMTP adapter builds: headers survive the wire, both bodies are there."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy

import pytest
from aiosmtplib.email import flatten_message

from services.notifier.adapters.smtp import build_message
from services.notifier.domain.emails import OutgoingEmail


@pytest.mark.parametrize(
    "subject",
    [
        "Задолженность: договор № A-79fffb (Beta LLC) — 25 000,00 RUB",
        "Напоминание: договор № A-17 (ООО «Ромашка») — период заканчивается 31 марта 2026",
        "Reminder: contract C-9 (Acme Ltd) — service period ends on 31 March 2026",
        "Plain ASCII subject",
    ],
)
def test_subject_and_bodies_round_trip(subject: str) -> None:
    event_id = uuid.uuid4()
    email = OutgoingEmail(
        event_id=event_id,
        kind="reminder",
        recipient="irina@example.com",
        role="manager",
        sender="abonent@example.com",
        message_id="<m-1@example.com>",
        subject=subject,
        text="Здравствуйте!\n30 000,00 RUB\n",
        html="<p>Здравствуйте!</p>",
        correlation_id="corr-1",
    )
    parsed = message_from_bytes(flatten_message(build_message(email)), policy=policy.default)
    assert parsed["Subject"] == subject  # no space lost between encoded words
    assert parsed["Message-ID"] == "<m-1@example.com>"
    assert parsed["X-Abonent-Event-Id"] == str(event_id)
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Correlation-ID"] == "corr-1"
    assert parsed.get_body(("plain",)).get_content() == "Здравствуйте!\n30 000,00 RUB\n"  # type: ignore[union-attr]  # the message has a plain part
    assert parsed.get_body(("html",)).get_content() == "<p>Здравствуйте!</p>"  # type: ignore[union-attr]  # the message has an html part
