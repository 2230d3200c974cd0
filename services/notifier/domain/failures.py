"""SMTP failures and what to do about them: try again later, or give up on this e-mail.

The SMTP adapter turns whatever its client library raises into a :class:`SendFailure` (the
stage it failed at, the reply code if the server sent one, the text). :func:`classify`
decides:

- **temporary** — no reply at all (connection refused, reset, timeout, TLS breakage), any
  4xx reply (``421`` service closing, ``450``/``451``/``452`` mailbox busy, greylisting,
  out of storage), and every failure *before the envelope* (greeting, EHLO, STARTTLS, AUTH)
  whatever its code: those say the server or our configuration is unwell, not this e-mail,
  so retrying — and, when the attempts run out, dead-lettering for a replay after the fix
  — loses nothing;
- **permanent** — a 5xx reply to MAIL FROM, RCPT TO or DATA (``550`` no such mailbox,
  ``552`` too big, ``554`` rejected): sending it again gives the same answer, so the
  delivery is recorded ``failed`` and not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    CONNECT = "connect"  # TCP, TLS-on-connect, greeting, EHLO
    TLS = "starttls"
    AUTH = "auth"
    SENDER = "mail_from"
    RECIPIENT = "rcpt_to"
    DATA = "data"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


_BEFORE_ENVELOPE = frozenset({Stage.CONNECT, Stage.TLS, Stage.AUTH})


class SendFailure(Exception):
    """An e-mail was not accepted by the SMTP server."""

    def __init__(self, stage: Stage, code: int | None, text: str) -> None:
        self.stage, self.code, self.text = stage, code, " ".join(text.split())[:500]
        super().__init__(str(self))

    def __str__(self) -> str:
        code = f"{self.code} " if self.code is not None else ""
        return f"SMTP {self.stage}: {code}{self.text}".strip()


def classify(failure: SendFailure) -> Verdict:
    if failure.code is None or failure.stage in _BEFORE_ENVELOPE:
        return Verdict.TEMPORARY
    if 400 <= failure.code < 500:
        return Verdict.TEMPORARY
    if 500 <= failure.code < 600:
        return Verdict.PERMANENT
    return Verdict.TEMPORARY  # a reply code outside SMTP's classes: assume a glitch


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per (event, recipient) and the back-off between them.

    The waits grow ``initial, 2×initial, 4×initial …`` up to ``max_wait`` (plus jitter of up
    to ``initial``). ``max_attempts`` counts attempts that reached an outcome, across
    redeliveries and restarts (the delivery log keeps the count).
    """

    max_attempts: int = 8
    initial_wait: float = 1.0
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_wait < 0 or self.max_wait < self.initial_wait:
            raise ValueError("need 0 <= initial_wait <= max_wait")

    def wait_before(self, attempt: int) -> float:
        """The pause before attempt number ``attempt`` (2, 3, …), without jitter."""
        return min(self.initial_wait * 2.0 ** max(attempt - 2, 0), self.max_wait)

    def worst_case_seconds(self, attempt_timeout: float) -> float:
        """The longest one message can keep its partition waiting: every attempt times out
        and every pause is taken (with the largest jitter)."""
        pauses = sum(self.wait_before(n) + self.initial_wait for n in range(2, self.max_attempts + 1))
        return pauses + self.max_attempts * attempt_timeout
