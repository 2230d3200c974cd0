"""The Message-ID of a notification is a function of (event, recipient), never random.

Why: the delivery log marks an e-mail ``sent`` only after the SMTP server accepted it. If
the notifier dies in between (or the server's final "250 OK" is lost on the wire), the
event is redelivered and the e-mail is sent again — with the SAME Message-ID, so mail
stores, list servers and people can see it is one message, not a new one (many mail
systems drop a second copy with a known Message-ID). That is the only window in which a
recipient can get a duplicate; see :mod:`services.notifier.application.delivery`.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from services.notifier.domain.addresses import same_mailbox_key

NAMESPACE = UUID("3f0e3e52-6a53-4f7e-9d0a-5b9f6f4f2a11")
"""Fixed forever: changing it changes every Message-ID the notifier would produce."""


def message_id(event_id: UUID, recipient: str, domain: str) -> str:
    """``<uuid5(event, recipient)@domain>`` — the same for every resend of one e-mail."""
    token = uuid5(NAMESPACE, f"{event_id}/{same_mailbox_key(recipient)}")
    return f"<{token}.notify@{domain.strip().lower()}>"
