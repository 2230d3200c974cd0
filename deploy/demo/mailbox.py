"""Read what the SMTP sink kept: one .eml file per message received."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mail:
    path: Path
    to: list[str]
    subject: str
    body: str
    attachments: tuple[tuple[str, bytes], ...] = ()
    """(file name, content) of each attached file (an invoice's PDF)."""


def read_mailbox(maildir: Path) -> list[Mail]:
    mails = []
    for path in sorted(maildir.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        to = [a.strip() for a in str(msg.get("X-Envelope-To", msg.get("To", ""))).split(",") if a.strip()]
        part = msg.get_body(preferencelist=("plain",))
        files = tuple(
            (a.get_filename() or "", a.get_content())
            for a in msg.iter_attachments()
            if isinstance(a.get_content(), bytes)
        )
        mails.append(Mail(path, to, str(msg.get("Subject", "")), part.get_content() if part else "", files))
    return mails
