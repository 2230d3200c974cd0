"""Sending one e-mail over SMTP with aiosmtplib; every failure becomes a :class:`SendFailure`.

One connection per e-mail (connect, EHLO, [STARTTLS], [AUTH], MAIL, RCPT, DATA, QUIT):
reminders are a few thousand a day at most, and a fresh connection means no half-dead
pooled session to reason about after an outage. ``tls`` is ``starttls`` (587: the server
must offer STARTTLS, or nothing is sent), ``tls`` (465: TLS from the first byte) or ``none``
(plain SMTP: a local sink); the password is a ``SecretStr`` read only at the call.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any, Literal

import aiosmtplib
from aiosmtplib import errors as smtp_errors
from pydantic import SecretStr

from services.notifier.domain.emails import OutgoingEmail
from services.notifier.domain.failures import SendFailure, Stage
from shared import tracing

SmtpTls = Literal["starttls", "tls", "none"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None
    tls: SmtpTls = "starttls"
    timeout: float = 10.0
    validate_certs: bool = True

    def __repr__(self) -> str:  # never print the password, even masked-by-accident
        return (
            f"SmtpConfig(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"tls={self.tls!r}, timeout={self.timeout})"
        )


def build_message(email: OutgoingEmail) -> MIMEMultipart:
    """multipart/alternative: plain text first, HTML second (clients show the last they can);
    with attachments (an invoice's PDF), multipart/mixed of that and the files.

    Built with the classic ``email.mime`` API and an explicit ``Header`` for the subject:
    the modern ``EmailMessage`` folder drops the space between two RFC 2047 encoded words
    ("договор №" arrives as "договор№"), the legacy encoder keeps it inside the word.
    """
    msg = MIMEMultipart("alternative")
    msg["From"] = email.sender
    msg["To"] = email.recipient
    msg["Subject"] = email.subject if email.subject.isascii() else Header(email.subject, "utf-8")  # type: ignore[assignment]  # email takes a Header; typeshed's MIMEMultipart says str only
    msg["Message-ID"] = email.message_id
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    msg["X-Abonent-Event-Id"] = str(email.event_id)
    msg["X-Abonent-Kind"] = email.kind
    if email.correlation_id:
        msg["X-Correlation-ID"] = email.correlation_id
    body = MIMEMultipart("alternative") if email.attachments else msg
    body.attach(MIMEText(email.text, "plain", "utf-8"))
    body.attach(MIMEText(email.html, "html", "utf-8"))
    if email.attachments:  # multipart/mixed: the alternative body, then each file
        msg.set_type("multipart/mixed")
        msg.attach(body)
        for item in email.attachments:
            maintype, _, subtype = item.content_type.partition("/")
            part = MIMEApplication(item.data, subtype) if maintype == "application" else MIMEText(item.data.decode())
            part.add_header("Content-Disposition", "attachment", filename=item.filename)
            msg.attach(part)
    return msg


def _failure(exc: BaseException) -> SendFailure:
    """Map aiosmtplib's exceptions (and socket ones) to the stage and reply code."""
    match exc:
        case smtp_errors.SMTPRecipientsRefused(recipients=[first, *_]):
            return SendFailure(Stage.RECIPIENT, first.code, first.message)
        case smtp_errors.SMTPRecipientRefused():
            return SendFailure(Stage.RECIPIENT, exc.code, exc.message)
        case smtp_errors.SMTPSenderRefused():
            return SendFailure(Stage.SENDER, exc.code, exc.message)
        case smtp_errors.SMTPDataError():
            return SendFailure(Stage.DATA, exc.code, exc.message)
        case smtp_errors.SMTPAuthenticationError():
            return SendFailure(Stage.AUTH, exc.code, exc.message)
        case smtp_errors.SMTPHeloError() | smtp_errors.SMTPConnectResponseError():
            return SendFailure(Stage.CONNECT, exc.code, exc.message)
        case smtp_errors.SMTPResponseException():
            return SendFailure(Stage.UNKNOWN, exc.code, exc.message)
        case smtp_errors.SMTPNotSupported():
            return SendFailure(Stage.TLS, None, f"not supported by the server: {exc}")
        case smtp_errors.SMTPException() if "STARTTLS" in str(exc):  # required, not offered
            return SendFailure(Stage.TLS, None, str(exc))
        case ssl.SSLError():
            return SendFailure(Stage.TLS, None, f"TLS: {exc}")
        case _:
            return SendFailure(Stage.CONNECT, None, f"{type(exc).__name__}: {exc}")


_NETWORK_ERRORS = (smtp_errors.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError)


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _connection_kwargs(self) -> dict[str, Any]:  # aiosmtplib's keyword arguments, each of its own type
        c = self.config
        return {
            "hostname": c.host,
            "port": c.port,
            "timeout": c.timeout,
            # aiosmtplib: start_tls=True fails when the server offers no STARTTLS (None would
            # quietly go on in clear text); False never upgrades.
            "use_tls": c.tls == "tls",
            "start_tls": c.tls == "starttls",
            "validate_certs": c.validate_certs,
            "username": c.username,
            "password": c.password.get_secret_value() if c.password is not None else None,
        }

    async def send(self, email: OutgoingEmail) -> None:
        """Returns when the server accepted the message; raises :class:`SendFailure`."""
        message = build_message(email)
        with tracing.span("notifier send", **{"smtp.host": self.config.host}):
            try:
                await aiosmtplib.send(
                    message, sender=email.sender, recipients=[email.recipient], **self._connection_kwargs()
                )
            except _NETWORK_ERRORS as exc:
                raise _failure(exc) from exc

    async def probe(self) -> None:
        """Connect, greet, [STARTTLS, AUTH], NOOP, QUIT: raises when the server is not usable."""
        client = aiosmtplib.SMTP(**self._connection_kwargs())
        try:
            await client.connect()  # logs in too when a username and password are set
            await client.noop()
        except _NETWORK_ERRORS as exc:
            raise _failure(exc) from exc
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except _NETWORK_ERRORS:
                    client.close()


__all__ = ["SmtpConfig", "SmtpSender", "SmtpTls", "build_message"]
