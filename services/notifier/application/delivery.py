"""Deliver one e-mail exactly once: one attempt at a time, the next one on a schedule.

Each attempt: claim the (event, recipient) row in the delivery log (a row lock held for the
attempt), skip it if it is already settled, send, and write the outcome in the same
transaction. A temporary failure (no answer, 4xx) with attempts left puts the row on the
retry schedule — ``next_attempt_at`` = now + ``initial, 2×, 4× … max_wait`` plus jitter, in
the database — and returns: the consumer commits the event's offset and goes on with the
next event, and the retry worker (any replica) makes the next attempt when it is due. One
recipient that keeps answering 4xx therefore delays nobody else (issue 15: it used to hold
the consumer 130–610 s per event). After ``max_attempts`` (counted in the log, so restarts
do not reset it) the delivery is ``dead`` and the event is dead-lettered. Permanent
failures (5xx to the envelope or data) are ``failed`` at once.

Between the server's "250" and the commit of the ``sent`` row the database may go away (a
restart, a failover, a cut connection): the row rolls back to ``pending`` and the event
comes again. The deliverer remembers, for as long as the process lives, every e-mail the
server accepted whose ``sent`` row has not committed yet; the next attempt at it records
``sent`` without mailing it again.

The window that remains, honestly: the notifier process dies (or its partition moves to
another replica while the database is away) after the server accepted the message and
before the ``sent`` row commits — or the "250" itself is lost. The recipient then gets the
e-mail a second time, with the same ``Message-ID`` (derived from event and recipient), so
mail systems and people can recognise it as the same message. No SMTP protocol lets a
client make "accepted" and "recorded" one atomic step.
"""

from __future__ import annotations

import asyncio
import random
from uuid import UUID

from services.notifier.application.ports import Log, Metrics, NoMetrics, Sender
from services.notifier.domain.emails import DeliveryResult, OutgoingEmail
from services.notifier.domain.failures import RetryPolicy, SendFailure, Verdict, classify
from shared.logging import get_logger


def retry_delay(policy: RetryPolicy, attempts: int) -> float:
    """Seconds until the attempt after ``attempts`` made: the policy's own schedule
    (``RetryPolicy.wait_before``, the one formula) plus up to ``initial_wait`` of jitter."""
    return policy.wait_before(attempts + 1) + random.uniform(0, policy.initial_wait)


log = get_logger("notifier.delivery")


class TryAgain(Exception):
    """The row is busy elsewhere (another replica is sending it): try again later."""

    def __init__(self, error: str, attempts: int | None = None) -> None:
        super().__init__(error)
        self.attempts = attempts


class ShuttingDown(Exception):
    """The service is stopping: no new attempt is started. The record is not settled, so its
    offset is not committed; the next owner of the partition retries."""


class Deliverer:
    def __init__(
        self,
        delivery_log: Log,
        sender: Sender,
        policy: RetryPolicy,
        metrics: Metrics | None = None,
        busy_exceptions: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._log, self._sender, self.policy = delivery_log, sender, policy
        self._metrics = metrics or NoMetrics()
        self._busy = busy_exceptions
        self._stopping = asyncio.Event()
        self._accepted_unrecorded: set[tuple[UUID, str]] = set()
        """(event, recipient) the SMTP server accepted whose ``sent`` row has not committed."""

    def stop(self) -> None:
        """Finish the attempts in flight, but start no new one."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def deliver(self, email: OutgoingEmail, *, scheduled: bool = False) -> DeliveryResult:
        """One attempt. ``scheduled``: the retry worker's attempt (only a row that is due);
        otherwise the consumer's first one (a row already on the schedule is left to it).
        A ``pending`` result means the next attempt is scheduled."""
        if self._stopping.is_set():
            raise ShuttingDown("the notifier is stopping; the e-mail stays pending")
        try:
            result = await self._claim_and_send(email, scheduled)
        except self._busy as exc:
            raise TryAgain(str(exc)) from exc
        # the outcome is committed: count and log it only now
        if result.status != "pending":
            self._accepted_unrecorded.discard((email.event_id, email.recipient))
        if result.already_done:
            return result
        if result.status == "sent":
            self._metrics.sent(email.kind)
            log.info("e-mail sent", recipient=email.recipient, message_id=email.message_id, attempts=result.attempts)
        elif result.status == "failed":
            self._metrics.failed(email.kind)
            log.error("e-mail refused for good", recipient=email.recipient, error=result.error)
        elif result.status == "dead":
            log.error(
                "e-mail attempts exhausted", recipient=email.recipient, error=result.error, attempts=result.attempts
            )
        else:  # pending: on the retry schedule
            self._metrics.retried(email.kind)
            log.info(
                "temporary failure, retry scheduled",
                recipient=email.recipient,
                error=result.error,
                attempts=result.attempts,
                max_attempts=self.policy.max_attempts,
            )
        return result

    async def _claim_and_send(self, email: OutgoingEmail, scheduled: bool) -> DeliveryResult:
        """One attempt inside one claim; the outcome commits when the claim's block ends."""
        async with self._log.claim(email.event_id, email.recipient) as claim:
            if claim.status != "pending" or claim.scheduled != scheduled or (scheduled and not claim.due):
                # settled, or not this caller's turn (the schedule's, or not due yet)
                return DeliveryResult(
                    email.recipient, claim.status, claim.attempts, claim.last_error, already_done=True
                )
            if claim.attempts >= self.policy.max_attempts:  # e.g. the setting was lowered
                error = claim.last_error or "attempts exhausted"
                await claim.mark_dead(claim.attempts, error)
                return DeliveryResult(email.recipient, "dead", claim.attempts, error)
            attempts = claim.attempts + 1
            key = (email.event_id, email.recipient)
            if key in self._accepted_unrecorded:  # sent before the database went away
                log.warning(
                    "recording an e-mail the server accepted before the database went away",
                    recipient=email.recipient,
                    message_id=email.message_id,
                )
                await claim.mark_sent(attempts)
                return DeliveryResult(email.recipient, "sent", attempts)
            try:
                await self._sender.send(email)
            except SendFailure as failure:
                error = str(failure)
                if classify(failure) is Verdict.PERMANENT:
                    await claim.mark_failed(attempts, error)
                    return DeliveryResult(email.recipient, "failed", attempts, error)
                if attempts >= self.policy.max_attempts:
                    await claim.mark_dead(attempts, error)
                    return DeliveryResult(email.recipient, "dead", attempts, error)
                await claim.mark_retry(attempts, error, retry_delay(self.policy, attempts))
                return DeliveryResult(email.recipient, "pending", attempts, error)
            self._accepted_unrecorded.add(key)  # until the block below commits the row
            await claim.mark_sent(attempts)
            return DeliveryResult(email.recipient, "sent", attempts)
