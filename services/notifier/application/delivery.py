"""Deliver one e-mail exactly once, retrying temporary SMTP failures with a growing back-off.

Each attempt: claim the (event, recipient) row in the delivery log (a row lock held for the
attempt), skip it if it is already settled, send, and write the outcome in the same
transaction. Temporary failures (no answer, 4xx) wait ``initial, 2×, 4× … max_wait`` and try
again while the message's offset stays uncommitted; after ``max_attempts`` (counted in the
log, so restarts do not reset it) the delivery is ``dead`` and the caller dead-letters the
event. Permanent failures (5xx to the envelope or data) are ``failed`` at once.

The window that remains, honestly: the SMTP server has accepted the message (its final
"250" is on the wire) but the notifier dies — or loses its database connection, or the
"250" is lost — before the ``sent`` row commits. The row rolls back to ``pending``, Kafka
redelivers the event, and the recipient gets the e-mail a second time. That second copy
carries the same ``Message-ID`` (derived from event and recipient), so mail systems and
people can recognise it as the same message. No SMTP protocol lets a client make "accepted"
and "recorded" one atomic step; the window is one SMTP round-trip wide.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from services.notifier.application.ports import Log, Metrics, NoMetrics, Sender
from services.notifier.domain.emails import DeliveryResult, OutgoingEmail
from services.notifier.domain.failures import RetryPolicy, SendFailure, Verdict, classify
from shared.logging import get_logger


def policy_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """tenacity's wait from the policy's own schedule (``RetryPolicy.wait_before``, the one
    formula, also behind ``worst_case_seconds``) plus up to ``initial_wait`` of jitter."""

    def wait(state: RetryCallState) -> float:
        # attempt_number counts the attempts made so far: the next one is attempt_number + 1
        return policy.wait_before(state.attempt_number + 1) + random.uniform(0, policy.initial_wait)

    return wait


log = get_logger("notifier.delivery")


class TryAgain(Exception):
    """A temporary failure with attempts left (or the row was busy elsewhere)."""

    def __init__(self, error: str, attempts: int | None = None) -> None:
        super().__init__(error)
        self.attempts = attempts


class ShuttingDown(Exception):
    """The service is stopping: the pause before the next attempt is not taken. The record is
    not settled, so its offset is not committed; the next owner of the partition retries."""


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

    def stop(self) -> None:
        """Finish the attempts in flight, but start no new one after a pause."""
        self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise ShuttingDown("the notifier is stopping; the e-mail stays pending")

    async def deliver(self, email: OutgoingEmail) -> DeliveryResult:
        p = self.policy

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "temporary failure, will retry",
                recipient=email.recipient,
                error=str(exc),
                retry_in=round(state.upcoming_sleep, 2),
                attempts=getattr(exc, "attempts", None),
                max_attempts=p.max_attempts,
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TryAgain),
            wait=policy_wait(p),
            # The log's attempt count settles the delivery; this is only a backstop (claims
            # that found the row busy elsewhere do not count as attempts).
            stop=stop_after_attempt(p.max_attempts * 3),
            before_sleep=before_sleep,
            reraise=True,
            sleep=self._pause,
        )
        result: DeliveryResult | None = None
        async for attempt in retrying:
            with attempt:
                result = await self._attempt(email)
        assert result is not None
        return result

    async def _attempt(self, email: OutgoingEmail) -> DeliveryResult:
        try:
            result = await self._claim_and_send(email)
        except self._busy as exc:
            raise TryAgain(str(exc)) from exc
        # the outcome is committed: count and log it only now
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
        else:  # pending: the attempt is counted even if we die during the pause
            self._metrics.retried(email.kind)
            raise TryAgain(result.error or "temporary failure", result.attempts)
        return result

    async def _claim_and_send(self, email: OutgoingEmail) -> DeliveryResult:
        """One attempt inside one claim; the outcome commits when the claim's block ends."""
        async with self._log.claim(email.event_id, email.recipient) as claim:
            if claim.status != "pending":
                return DeliveryResult(
                    email.recipient, claim.status, claim.attempts, claim.last_error, already_done=True
                )
            if claim.attempts >= self.policy.max_attempts:  # e.g. the setting was lowered
                error = claim.last_error or "attempts exhausted"
                await claim.mark_dead(claim.attempts, error)
                return DeliveryResult(email.recipient, "dead", claim.attempts, error)
            attempts = claim.attempts + 1
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
                await claim.mark_retry(attempts, error)
                return DeliveryResult(email.recipient, "pending", attempts, error)
            await claim.mark_sent(attempts)
            return DeliveryResult(email.recipient, "sent", attempts)
