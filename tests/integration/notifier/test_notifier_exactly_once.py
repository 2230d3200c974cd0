"""The delivery log's promises on real PostgreSQL, SMTP and Kafka, without the consumer:
two replicas, a crash between "sent" and "recorded", attempts running out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from services.notifier.adapters.delivery_log import ClaimBusy, DeliveryLog
from services.notifier.adapters.smtp import SmtpConfig, SmtpSender
from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.application.delivery import Deliverer
from services.notifier.application.notify import NotifyPolicy, Outcome, ScheduleNotifier
from services.notifier.domain.emails import Notification, OutgoingEmail
from services.notifier.domain.failures import RetryPolicy
from services.notifier.domain.message_ids import message_id
from shared.consumer import DeadLetterProducer, DeadLetterPublisher
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.kafka_security import plaintext
from shared.topics import CONTRACTS_SCHEDULE, NOTIFIER_GROUP, dead_letter_topic
from tests.integration.notifier.mailbox import Mailbox
from tests.support.servers import free_port
from tests.unit.notifier.notifier_events import Client, ending_soon, envelope, record_of


@pytest.fixture(scope="session")
async def notifier_dsn(stack: Any) -> str:
    dsn = stack.database_urls["notifier"]
    await apply_migrations(dsn, migrations_dir("notifier"))
    return dsn


@pytest.fixture
async def two_pools(notifier_dsn: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two pools: as two notifier replicas would each have their own."""
    a = await create_pool(notifier_dsn, min_size=1, max_size=4)
    b = await create_pool(notifier_dsn, min_size=1, max_size=4)
    yield a, b
    await a.close()
    await b.close()


async def recorded_email(log: DeliveryLog, recipient: str = "irina@example.com") -> OutgoingEmail:
    event_id = uuid.uuid4()
    email = OutgoingEmail(
        event_id=event_id,
        kind="reminder",
        recipient=recipient,
        role="manager",
        sender="abonent@example.com",
        message_id=message_id(event_id, recipient, "example.com"),
        subject="Напоминание: договор № T-1",
        text="текст",
        html="<p>текст</p>",
    )
    await log.record(
        Notification(event_id, "ServicePeriodEndingSoon", "reminder", uuid.uuid4(), uuid.uuid4(), "T-1", email.subject),
        [email],
        [],
        [],
    )
    return email


async def test_two_replicas_delivering_one_email_send_it_once(
    two_pools: tuple[asyncpg.Pool, asyncpg.Pool], mailbox: Mailbox
) -> None:
    sender = SmtpSender(SmtpConfig("127.0.0.1", mailbox.port, tls="none", timeout=5))
    policy = RetryPolicy(3, 0.05, 0.1)
    replicas = [Deliverer(DeliveryLog(pool), sender, policy, busy_exceptions=(ClaimBusy,)) for pool in two_pools]
    email = await recorded_email(DeliveryLog(two_pools[0]))
    mailbox.data_delay = 0.5  # both are in flight at once; one waits on the row lock
    try:
        results = await asyncio.gather(*(r.deliver(email) for r in replicas for _ in range(3)))
    finally:
        mailbox.data_delay = 0.0
    assert len(mailbox.for_event(email.event_id)) == 1
    assert [r.status for r in results] == ["sent"] * 6
    assert sum(not r.already_done for r in results) == 1


async def test_a_crash_between_sent_and_recorded_resends_with_the_same_message_id(
    two_pools: tuple[asyncpg.Pool, asyncpg.Pool], mailbox: Mailbox
) -> None:
    pool, other = two_pools
    log = DeliveryLog(pool)
    sender = SmtpSender(SmtpConfig("127.0.0.1", mailbox.port, tls="none", timeout=5))
    email = await recorded_email(log)

    # replica A claims and sends, then "dies" before recording: its session is killed
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
        async with log.claim(email.event_id, email.recipient) as claim:
            pid = await claim._conn.fetchval("SELECT pg_backend_pid()")  # the claim's own connection, to kill it
            await sender.send(email)
            await other.execute("SELECT pg_terminate_backend($1)", pid)
            await asyncio.sleep(0.2)
            await claim.mark_sent(1)
    row = await other.fetchrow("SELECT status, attempts FROM deliveries WHERE event_id = $1", email.event_id)
    assert (row["status"], row["attempts"]) == ("pending", 0)  # rolled back: no claim left

    # the redelivery goes to replica B: the e-mail goes again, recognisably the same message
    result = await Deliverer(DeliveryLog(other), sender, RetryPolicy(3, 0.05, 0.1)).deliver(email)
    assert result.status == "sent"
    copies = mailbox.for_event(email.event_id)
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"] == email.message_id


class LosesTheDatabaseAfterSending:
    """An SMTP sender after whose "250" the notifier's database connection is gone: the
    claim's session is terminated, as a PostgreSQL restart (or a network cut) does."""

    def __init__(self, sender: SmtpSender, admin: asyncpg.Pool) -> None:
        self._sender, self._admin, self.cuts = sender, admin, 0

    async def send(self, email: OutgoingEmail) -> None:
        await self._sender.send(email)
        if self.cuts == 0:
            self.cuts += 1
            await self._admin.execute(
                """SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE c.relname = 'deliveries' AND l.pid <> pg_backend_pid()"""
            )


async def test_a_database_lost_between_sent_and_recorded_records_it_without_sending_again(
    two_pools: tuple[asyncpg.Pool, asyncpg.Pool], mailbox: Mailbox
) -> None:
    pool, admin = two_pools
    log = DeliveryLog(pool)
    sender = LosesTheDatabaseAfterSending(
        SmtpSender(SmtpConfig("127.0.0.1", mailbox.port, tls="none", timeout=5)), admin
    )
    deliverer = Deliverer(log, sender, RetryPolicy(3, 0.05, 0.1))
    email = await recorded_email(log)

    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
        await deliverer.deliver(email)  # accepted by the server; the "sent" row never committed
    assert sender.cuts == 1
    row = await admin.fetchrow("SELECT status, attempts FROM deliveries WHERE event_id = $1", email.event_id)
    assert (row["status"], row["attempts"]) == ("pending", 0)

    # the database is back and the event comes again (Kafka's redelivery): the process still
    # knows the server accepted it, so it records "sent" and mails nothing more
    result = await deliverer.deliver(email)
    assert (result.status, result.already_done) == ("sent", False)
    row = await admin.fetchrow("SELECT status, attempts FROM deliveries WHERE event_id = $1", email.event_id)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert len(mailbox.for_event(email.event_id)) == 1
    again = await deliverer.deliver(email)  # and from then on the log says it is done
    assert again.already_done and len(mailbox.for_event(email.event_id)) == 1


async def test_attempts_running_out_dead_letter_the_event_and_a_retry_sends_it_later(
    two_pools: tuple[asyncpg.Pool, asyncpg.Pool],
    stack: Any,
    notifier_api: httpx.AsyncClient,
    notifier_app: FastAPI,
    mailbox: Mailbox,
) -> None:
    log = DeliveryLog(two_pools[0])
    closed_port = free_port()  # nothing listens there: connection refused, every time
    producer = DeadLetterProducer(plaintext(stack.kafka_bootstrap), "notifier-test-dlq")
    await producer.start()
    dead_letters = DeadLetterPublisher(producer.send, NOTIFIER_GROUP)
    # The package's healthy replica would (rightly) send a due retry of these deliveries itself;
    # while this broken-SMTP notifier runs its attempts out, it pauses.
    await notifier_app.state.retries.stop()
    try:
        notifier = ScheduleNotifier(
            log,
            Deliverer(
                log,
                SmtpSender(SmtpConfig("127.0.0.1", closed_port, tls="none", timeout=2)),
                RetryPolicy(3, 0.05, 0.1),
                busy_exceptions=(ClaimBusy,),
            ),
            TemplateRenderer("en"),
            dead_letters,
            NotifyPolicy("abonent@example.com", ("ops@example.com",), "example.com"),
        )
        client = Client()
        record = record_of(envelope(ending_soon(client), client), offset=10_000_000 + uuid.uuid4().int % 10**6)
        handled = await notifier.handle(record)
        assert handled.outcome is Outcome.RETRY_SCHEDULED  # first attempts failed: on the schedule
        event_id = uuid.UUID(dict(record.headers)["event_id"].decode())
        deadline = asyncio.get_running_loop().time() + 30
        while True:  # the retry worker's rounds, until every recipient's attempts ran out
            outcome = (await notifier.handle(record)).outcome
            waiting = await two_pools[1].fetchval(
                "SELECT count(*) FROM deliveries WHERE event_id = $1 AND status = 'pending'", event_id
            )
            if outcome is Outcome.DEAD_LETTERED and waiting == 0:
                break
            assert asyncio.get_running_loop().time() < deadline, "attempts never ran out"
            await notifier.retry_due()
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        notifier_app.state.retries.start()
    rows = await two_pools[1].fetch(
        "SELECT status, attempts, last_error FROM deliveries WHERE event_id = $1",
        uuid.UUID(dict(record.headers)["event_id"].decode()),
    )
    assert [(r["status"], r["attempts"]) for r in rows] == [("dead", 3), ("dead", 3)]
    assert all("connect" in r["last_error"].lower() for r in rows)

    consumer = AIOKafkaConsumer(
        dead_letter_topic(NOTIFIER_GROUP),
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found = None
        deadline = asyncio.get_running_loop().time() + 30
        while found is None and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    h = dict(r.headers)
                    # dead-lettered by the retry worker, from the stored envelope (no source offset)
                    if h.get("event_id") == dict(record.headers)["event_id"]:
                        found = r
    finally:
        await consumer.stop()
    assert found is not None, "the exhausted event is not in the dead-letter topic"
    headers = dict(found.headers)
    assert headers["dlq_error"].startswith(b"undeliverable: ")
    assert headers["dlq_source_topic"] == CONTRACTS_SCHEDULE.encode()
    assert found.value == record.value

    # SMTP is fine again (the service's own SMTP settings): the operator asks for a retry
    event_id = uuid.UUID(dict(record.headers)["event_id"].decode())
    response = await notifier_api.post(f"/notifications/{event_id}/retry")
    assert response.status_code == 202, response.text
    assert response.json() == {"event_id": str(event_id), "reopened": 2}
    mails = await mailbox.wait_for(event_id, 2)
    assert sorted(m.rcpt_tos[0] for m in mails) == sorted([client.manager_email, "ops@example.com"], key=str)
    listed = (await notifier_api.get("/notifications", params={"client_id": str(client.client_id)})).json()
    assert listed["items"][0]["status"] == "sent"
    again = await notifier_api.post(f"/notifications/{event_id}/retry")
    assert again.json()["reopened"] == 0
    missing = await notifier_api.post(f"/notifications/{uuid.uuid4()}/retry")
    assert missing.status_code == 404 and missing.json()["errors"][0]["rule"] == "not_found"
