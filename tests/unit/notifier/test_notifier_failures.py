"""Retry classification of SMTP failures, and the back-off policy."""

from __future__ import annotations

import aiosmtplib
import pytest

from services.notifier.adapters.smtp import _failure
from services.notifier.domain.failures import RetryPolicy, SendFailure, Stage, Verdict, classify


@pytest.mark.parametrize(
    ("failure", "verdict"),
    [
        (SendFailure(Stage.CONNECT, None, "Connection refused"), Verdict.TEMPORARY),
        (SendFailure(Stage.CONNECT, None, "timed out"), Verdict.TEMPORARY),
        (SendFailure(Stage.CONNECT, 421, "service not available"), Verdict.TEMPORARY),
        (SendFailure(Stage.RECIPIENT, 450, "mailbox busy"), Verdict.TEMPORARY),
        (SendFailure(Stage.RECIPIENT, 451, "greylisted, try later"), Verdict.TEMPORARY),
        (SendFailure(Stage.DATA, 452, "insufficient storage"), Verdict.TEMPORARY),
        (SendFailure(Stage.RECIPIENT, 550, "no such user"), Verdict.PERMANENT),
        (SendFailure(Stage.SENDER, 553, "sender not allowed"), Verdict.PERMANENT),
        (SendFailure(Stage.DATA, 554, "rejected as spam"), Verdict.PERMANENT),
        (SendFailure(Stage.DATA, 552, "too big"), Verdict.PERMANENT),
        # before the envelope: our configuration or the server, not this e-mail → retry, then DLQ
        (SendFailure(Stage.AUTH, 535, "bad credentials"), Verdict.TEMPORARY),
        (SendFailure(Stage.TLS, None, "STARTTLS not supported"), Verdict.TEMPORARY),
        (SendFailure(Stage.CONNECT, 554, "no SMTP service here"), Verdict.TEMPORARY),
        (SendFailure(Stage.UNKNOWN, 999, "odd"), Verdict.TEMPORARY),
    ],
)
def test_classify(failure: SendFailure, verdict: Verdict) -> None:
    assert classify(failure) is verdict


@pytest.mark.parametrize(
    ("exc", "stage", "code"),
    [
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@y.z")]),
            Stage.RECIPIENT,
            550,
        ),
        (aiosmtplib.SMTPSenderRefused(451, "later", "a@b.c"), Stage.SENDER, 451),
        (aiosmtplib.SMTPDataError(554, "spam"), Stage.DATA, 554),
        (aiosmtplib.SMTPAuthenticationError(535, "no"), Stage.AUTH, 535),
        (aiosmtplib.SMTPConnectError("refused"), Stage.CONNECT, None),
        (aiosmtplib.SMTPServerDisconnected("gone"), Stage.CONNECT, None),
        (aiosmtplib.SMTPReadTimeoutError("slow"), Stage.CONNECT, None),
        (ConnectionRefusedError(111, "Connection refused"), Stage.CONNECT, None),
        (aiosmtplib.SMTPNotSupported("STARTTLS"), Stage.TLS, None),
    ],
)
def test_smtp_library_errors_map_to_stage_and_code(exc: Exception, stage: Stage, code: int | None) -> None:
    failure = _failure(exc)
    assert (failure.stage, failure.code) == (stage, code)


def test_failure_text_is_one_line_and_bounded() -> None:
    failure = SendFailure(Stage.DATA, 554, "line one\r\nline two " + "x" * 1000)
    assert "\n" not in str(failure) and len(failure.text) <= 500
    assert str(failure).startswith("SMTP data: 554 line one line two")


def test_backoff_grows_to_a_bound_and_the_worst_case_is_known() -> None:
    policy = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=5.0)
    assert [policy.wait_before(n) for n in range(2, 6)] == [1.0, 2.0, 4.0, 5.0]
    # 4 pauses (+ jitter up to 1s each) and 5 attempts of at most 10 s
    assert policy.worst_case_seconds(10.0) == (1 + 2 + 4 + 5) + 4 * 1.0 + 50
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_the_next_attempt_is_scheduled_by_the_policys_own_schedule_with_at_most_initial_wait_of_jitter():
    from services.notifier.application.delivery import retry_delay

    policy = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=5.0)
    for made, base in zip(range(1, 5), [1.0, 2.0, 4.0, 5.0], strict=True):
        assert base <= retry_delay(policy, made) <= base + policy.initial_wait
