"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can be stopped
and started again on the same port (SMTP down, SMTP back)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

REFUSING_DOMAIN = "refuse.example.com"
"""RCPT TO any address here is answered ``550`` (a permanent refusal)."""


@dataclass(frozen=True)
class Received:
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def event_id(self) -> str | None:
        return self.message["X-Abonent-Event-Id"]

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None
        return part.get_content()


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,  # aiosmtpd's hook name
        rcpt_options: Any,
    ) -> str:
        if address.lower().endswith("@" + REFUSING_DOMAIN):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        if self.box.data_delay:
            await asyncio.sleep(self.box.data_delay)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.box.lock:
            self.box.received.append(Received(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class Mailbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.data_delay = 0.0
        self._controller: Controller | None = None

    def start(self) -> None:
        controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def for_event(self, event_id: object) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.event_id == str(event_id)]

    async def wait_for(
        self, event_id: object, count: int, *, timeout: float = 30.0, settle: float = 1.5
    ) -> list[Received]:
        """The e-mails of ``event_id`` once there are ``count``; then waits ``settle`` seconds
        more and returns what is there (so one too many is caught, not missed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.for_event(event_id)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"expected {count} e-mails for {event_id}, got {len(self.for_event(event_id))}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(settle)
        return self.for_event(event_id)
