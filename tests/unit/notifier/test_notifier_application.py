"""The notifier's use case with in-memory ports: exactly once, retries, dead letters."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.application.delivery import Deliverer
from services.notifier.application.notify import NotifyPolicy, Outcome, ScheduleNotifier
from services.notifier.domain.failures import RetryPolicy, SendFailure, Stage
from tests.unit.notifier.notifier_events import (
    Client,
    Record,
    ending_soon,
    envelope,
    overdue,
    record_of,
    started,
)
from tests.unit.notifier.notifier_fakes import FakeDeadLetters, FakeLog, FakeSender

GENERAL = ("ops@example.com",)
REFUSED = SendFailure(Stage.CONNECT, None, "Connection refused")


def make(
    sender: FakeSender | None = None,
    *,
    max_attempts: int = 4,
    general: tuple[str, ...] = GENERAL,
) -> tuple[ScheduleNotifier, FakeLog, FakeSender, FakeDeadLetters]:
    log, sender, dlq = FakeLog(), sender or FakeSender(), FakeDeadLetters()
    deliverer = Deliverer(log, sender, RetryPolicy(max_attempts, 0.0, 0.0))
    notifier = ScheduleNotifier(
        log, deliverer, TemplateRenderer("ru"), dlq, NotifyPolicy("abonent@example.com", general, "example.com")
    )
    return notifier, log, sender, dlq


async def test_a_reminder_goes_to_the_manager_and_the_general_address_once() -> None:
    notifier, log, sender, dlq = make()
    client = Client()
    rec = record_of(envelope(ending_soon(client), client))
    handled = await notifier.handle(rec)
    assert handled.outcome is Outcome.DELIVERED
    assert sorted(e.recipient for e in sender.sent) == sorted([client.manager_email, "ops@example.com"], key=str)
    assert len({e.message_id for e in sender.sent}) == 2
    # redelivered: nothing new is sent
    again = await notifier.handle(rec)
    assert again.outcome is Outcome.DELIVERED and all(r.already_done for r in again.deliveries)
    assert len(sender.sent) == 2 and not dlq.published


async def test_concurrent_handling_of_one_event_sends_each_email_once() -> None:
    notifier, _, sender, _ = make(FakeSender(delay=0.01))
    client = Client()
    rec = record_of(envelope(overdue(client), client))
    await asyncio.gather(notifier.handle(rec), notifier.handle(rec), notifier.handle(rec))
    assert len(sender.sent) == 2


async def test_temporary_failures_go_on_the_retry_schedule_and_are_sent_from_it() -> None:
    notifier, log, sender, dlq = make(FakeSender(failures=[REFUSED, REFUSED]))
    client = Client()
    handled = await notifier.handle(record_of(envelope(ending_soon(client), client)))
    assert handled.outcome is Outcome.RETRY_SCHEDULED  # the record is settled: the consumer goes on
    assert await log.retry_queue_size() == 2 and not sender.sent
    assert await notifier.retry_due() == 2
    assert len(sender.sent) == 2 and sender.calls == 4
    assert sum(r.attempts for r in log.rows.values()) == 4  # 2 failed + 2 sent
    assert {r.status for r in log.rows.values()} == {"sent"}


async def test_a_permanent_refusal_is_recorded_failed_and_not_retried() -> None:
    client = Client()
    refusal = SendFailure(Stage.RECIPIENT, 550, "no such user")
    notifier, log, sender, dlq = make(FakeSender(per_recipient={client.manager_email: refusal}))  # type: ignore[dict-item]  # a manager e-mail the fixture always sets
    handled = await notifier.handle(record_of(envelope(ending_soon(client), client)))
    assert handled.outcome is Outcome.DELIVERED
    statuses = {r.recipient: (r.status, r.attempts) for r in handled.deliveries}
    assert statuses == {client.manager_email: ("failed", 1), "ops@example.com": ("sent", 1)}
    assert not dlq.published


async def test_exhausted_attempts_dead_letter_the_event_with_the_reason() -> None:
    notifier, log, sender, dlq = make(FakeSender(failures=[REFUSED] * 100), max_attempts=3)
    client = Client()
    rec = record_of(envelope(ending_soon(client), client))
    assert (await notifier.handle(rec)).outcome is Outcome.RETRY_SCHEDULED
    while await notifier.retry_due():  # the retry worker's rounds
        pass
    assert all((row.status, row.attempts) == ("dead", 3) for row in log.rows.values())
    assert len(dlq.published) == 1 and dlq.published[0][0].value == rec.value
    assert "Connection refused" in dlq.published[0][1]
    handled = await notifier.handle(rec)
    assert handled.outcome is Outcome.DEAD_LETTERED
    assert {r.status for r in handled.deliveries} == {"dead"}
    # redelivered after a crash before the commit: dead-lettered again, nothing sent
    calls = sender.calls
    assert (await notifier.handle(rec)).outcome is Outcome.DEAD_LETTERED
    assert sender.calls == calls


async def test_a_client_without_manager_email_still_gets_the_general_email() -> None:
    notifier, _, sender, dlq = make()
    client = Client()
    event = ending_soon(client).model_copy(update={"manager_email": None})
    handled = await notifier.handle(record_of(envelope(event, client)))
    assert handled.outcome is Outcome.DELIVERED
    assert [e.recipient for e in sender.sent] == ["ops@example.com"] and not dlq.published


async def test_an_invalid_manager_email_is_recorded_and_dead_lettered_general_still_sent() -> None:
    notifier, log, sender, dlq = make()
    client = Client(manager_email="not-an-address")
    rec = record_of(envelope(ending_soon(client), client))
    handled = await notifier.handle(rec)
    assert handled.outcome is Outcome.DEAD_LETTERED
    assert [e.recipient for e in sender.sent] == ["ops@example.com"]
    dead = [row for (_, rcpt), row in log.rows.items() if rcpt == "not-an-address"]
    assert dead and dead[0].status == "dead" and "invalid manager e-mail" in (dead[0].last_error or "")
    assert "not-an-address" in dlq.published[0][1]


async def test_nobody_to_write_to_is_rejected() -> None:
    notifier, log, sender, dlq = make(general=())
    client = Client()
    event = overdue(client).model_copy(update={"manager_email": None})
    handled = await notifier.handle(record_of(envelope(event, client)))
    assert handled.outcome is Outcome.DEAD_LETTERED and "no recipients" in (handled.reason or "")
    assert log.rejected and not sender.sent


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "invalid envelope"),
        (None, "empty message value"),
    ],
)
async def test_broken_messages_are_recorded_and_dead_lettered(value: bytes | None, reason: str) -> None:
    notifier, log, sender, dlq = make()
    handled = await notifier.handle(Record(value, offset=5))
    assert handled.outcome is Outcome.DEAD_LETTERED
    assert dlq.published[0][1].startswith(reason)
    assert log.rejected[0][:3] == ("contracts.schedule.v1", 0, 5)


async def test_unknown_type_and_invalid_payload_are_dead_lettered() -> None:
    notifier, log, sender, dlq = make()
    client = Client()
    env = envelope(ending_soon(client), client)
    unknown = env.model_copy(update={"event_type": "ServicePeriodExploded"})
    invalid = env.model_copy(update={"data": {**env.data, "period": "soon"}})
    assert (await notifier.handle(record_of(unknown))).outcome is Outcome.DEAD_LETTERED
    assert (await notifier.handle(record_of(invalid))).outcome is Outcome.DEAD_LETTERED
    assert dlq.published[0][1].startswith("unknown event type")
    assert dlq.published[1][1].startswith("invalid ServicePeriodEndingSoon v2 payload")
    assert log.rejected[0][3] == env.event_id  # the event id from the headers is kept
    assert not sender.sent


async def test_started_and_ended_are_ignored() -> None:
    notifier, _, sender, dlq = make()
    client = Client()
    assert (await notifier.handle(record_of(envelope(started(client), client)))).outcome is Outcome.IGNORED
    assert not sender.sent and not dlq.published


async def test_an_event_the_templates_cannot_render_is_dead_lettered_not_retried() -> None:
    class Broken:
        def render(self, *args: object) -> None:
            raise KeyError("missing")

    log, sender, dlq = FakeLog(), FakeSender(), FakeDeadLetters()
    notifier = ScheduleNotifier(
        log,
        Deliverer(log, sender, RetryPolicy(2, 0, 0)),
        Broken(),  # type: ignore[arg-type]  # a deliberately broken renderer
        dlq,
        NotifyPolicy("abonent@example.com", GENERAL, "example.com"),
    )
    client = Client()
    handled = await notifier.handle(record_of(envelope(ending_soon(client), client)))
    assert handled.outcome is Outcome.DEAD_LETTERED
    assert dlq.published[0][1].startswith("cannot render the reminder e-mail")
    assert not sender.sent and log.rejected


async def test_a_dead_lettered_notification_can_be_reopened_and_sent() -> None:
    notifier, log, sender, dlq = make(FakeSender(failures=[REFUSED] * 4), max_attempts=2)
    client = Client()
    env = envelope(ending_soon(client), client)
    assert (await notifier.handle(record_of(env))).outcome is Outcome.RETRY_SCHEDULED
    assert await notifier.retry_due() == 2 and len(dlq.published) == 1  # the second attempts: dead
    reopened = await notifier.reopen(env.event_id)
    assert reopened is not None and reopened.deliveries == 2 and reopened.record is not None
    assert await notifier.retry_due() == 2  # due at once, from the log (no task in memory)
    assert {r.status for r in log.rows.values()} == {"sent"}
    assert sorted(e.recipient for e in sender.sent) == sorted([client.manager_email, "ops@example.com"], key=str)
    assert await notifier.reopen(uuid.uuid4()) is None


async def test_recipients_are_fixed_when_the_event_is_first_recorded() -> None:
    sender = FakeSender(failures=[REFUSED] * 2)
    first, log, _, dlq = make(sender, max_attempts=1)
    client = Client()
    rec = record_of(envelope(ending_soon(client), client))
    assert (await first.handle(rec)).outcome is Outcome.DEAD_LETTERED
    # the general address changed in the settings before the event comes again
    second = ScheduleNotifier(
        log,
        Deliverer(log, sender, RetryPolicy(3, 0, 0)),
        TemplateRenderer("ru"),
        dlq,
        NotifyPolicy("abonent@example.com", ("new@example.com",), "example.com"),
    )
    await log.reopen(rec_event_id(rec))
    await second.handle(rec)  # a redelivery leaves the reopened deliveries to the schedule
    assert await second.retry_due() == 2
    assert sorted(e.recipient for e in sender.sent) == sorted([client.manager_email, "ops@example.com"], key=str)


def rec_event_id(rec: Record) -> uuid.UUID:
    return uuid.UUID(dict(rec.headers)["event_id"].decode())


@pytest.mark.parametrize("make_event", [ending_soon, overdue], ids=["reminder", "debt_notice"])
async def test_a_late_reminder_or_debt_notice_is_recorded_skipped_late_and_not_mailed(make_event) -> None:
    """Issue 12 case 6: a back-dated contract's old reminders and debts are history, not mail."""
    notifier, log, sender, dlq = make()
    client = Client()
    env = envelope(make_event(client).model_copy(update={"late": True}), client)
    handled = await notifier.handle(record_of(env))
    assert handled.outcome is Outcome.SKIPPED_LATE
    assert sender.sent == [] and not dlq.published
    deliveries = await log.deliveries_of(env.event_id)
    assert len(deliveries) == 2 and {d.status for d in deliveries} == {"skipped_late"}
    rec = record_of(env)
    assert (await notifier.handle(rec)).outcome is Outcome.SKIPPED_LATE and sender.sent == []


async def test_one_failing_recipient_does_not_hold_back_other_events() -> None:
    """Issue 15: a recipient answering 4xx held the consumer 130-610 s per event (retries in
    the handler), so every reminder behind it waited. Now the handler makes one attempt and
    returns; the other events and recipients go at once."""
    client = Client(manager_email="greylisted@example.com")
    busy = SendFailure(Stage.RECIPIENT, 451, "greylisted, try later")
    log, sender, dlq = FakeLog(), FakeSender(per_recipient={"greylisted@example.com": busy}), FakeDeadLetters()
    notifier = ScheduleNotifier(
        log,
        Deliverer(log, sender, RetryPolicy(8, 1.0, 5.0)),  # the real pauses: 1, 2, 4, 5 … s
        TemplateRenderer("ru"),
        dlq,
        NotifyPolicy("abonent@example.com", GENERAL, "example.com"),
    )
    log_before = len(sender.sent)
    others = [Client() for _ in range(5)]
    first = await asyncio.wait_for(notifier.handle(record_of(envelope(ending_soon(client), client))), 1.0)
    assert first.outcome.value == "retry_scheduled"
    for other in others:  # the events behind it, each handled at once
        handled = await asyncio.wait_for(notifier.handle(record_of(envelope(ending_soon(other), other))), 1.0)
        assert handled.outcome is Outcome.DELIVERED
    assert len(sender.sent) - log_before == 1 + 2 * len(others)  # ops for the first, both for the rest
    assert await log.retry_queue_size() == 1 and not dlq.published
