"""The notifier against real Kafka, PostgreSQL and a real SMTP server on loopback.

Events are produced to ``contracts.schedule.v1`` as the contracts service's relay does:
value = the envelope's JSON, key = the client id, headers = the envelope's ids.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from services.notifier.settings import NotifierSettings
from shared.events.envelope import Envelope
from shared.topics import CONTRACTS_SCHEDULE, NOTIFIER_GROUP
from tests.integration.notifier.mailbox import REFUSING_DOMAIN, Mailbox
from tests.support.kafka import dead_letters
from tests.unit.notifier.notifier_events import Client, ending_soon, envelope, overdue, started


async def publish(producer: AIOKafkaProducer, env: Envelope) -> RecordMetadata:
    return await producer.send_and_wait(
        CONTRACTS_SCHEDULE, value=env.to_bytes(), key=env.partition_key.encode(), headers=env.kafka_headers()
    )


async def notification(
    api: httpx.AsyncClient, client: Client, *, status: str | None = None, timeout: float = 30.0
) -> dict[str, Any]:
    """The client's newest entry of ``GET /notifications`` (once it has ``status``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await api.get("/notifications", params={"client_id": str(client.client_id)})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if items and (status is None or items[0]["status"] == status):
            return items[0]
        assert loop.time() < deadline, f"no notification with status {status} for {client.client_id}: {items}"
        await asyncio.sleep(0.2)


async def dead_letter_for(bootstrap: str, source: RecordMetadata, timeout: float = 30.0) -> Any:
    """The notifier group's dead letter of this contracts.schedule record (None: none in time)."""
    found = await dead_letters(
        bootstrap, NOTIFIER_GROUP, CONTRACTS_SCHEDULE, source.partition, source.offset, timeout=timeout
    )
    return found[0] if found else None


async def test_a_reminder_sends_exactly_two_emails_and_a_redelivery_sends_none(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox, settings: NotifierSettings
) -> None:
    client = Client(name="ООО «Ромашка»")
    env = envelope(ending_soon(client, amount="45000.00"), client, version=1)
    await publish(producer, env)

    mails = await mailbox.wait_for(env.event_id, 2)
    assert sorted(m.rcpt_tos[0] for m in mails) == sorted([client.manager_email, settings.general_email], key=str)
    for m in mails:
        assert m.message["Subject"] == (
            f"Напоминание: договор № {client.number} (ООО «Ромашка») — период заканчивается 31 марта 2026"
        )
        assert "45 000,00 RUB" in m.body("plain") and "1 апреля 2026" in m.body("plain")
        assert "45 000,00 RUB" in m.body("html")
        assert m.message["From"] == "abonent@example.com"
    assert len({m.message["Message-ID"] for m in mails}) == 2

    item = await notification(notifier_api, client, status="sent")
    assert item["event_id"] == str(env.event_id) and item["kind"] == "reminder"
    assert sorted(item["recipients"]) == sorted([client.manager_email, settings.general_email], key=str)
    assert item["subject"] == mails[0].message["Subject"] and item["sent_at"]

    # the same event again (as Kafka may redeliver it), and the same bytes once more
    await publish(producer, env)
    await publish(producer, env)
    follow = envelope(ending_soon(client), client, version=2)  # same partition, after them
    await publish(producer, follow)
    await mailbox.wait_for(follow.event_id, 2)
    assert len(mailbox.for_event(env.event_id)) == 2


async def test_a_debt_notice_goes_to_manager_and_general(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox
) -> None:
    client = Client(name="Beta LLC")
    env = envelope(overdue(client), client, version=1)
    await publish(producer, env)
    mails = await mailbox.wait_for(env.event_id, 2)
    assert {m.message["Subject"] for m in mails} == {
        f"Задолженность: договор № {client.number} (Beta LLC) — 25 000,00 RUB"
    }
    assert "Задолженность с: 1 апреля 2026" in mails[0].body("plain")
    item = await notification(notifier_api, client, status="sent")
    assert item["kind"] == "debt_notice"


async def test_smtp_down_for_a_while_then_up_delivers_the_emails(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox
) -> None:
    client = Client()
    env = envelope(ending_soon(client), client, version=1)
    mailbox.stop()
    try:
        await publish(producer, env)
        # the notifier tries, fails (connection refused) and keeps the deliveries pending
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90  # another package's stray event may be retried first
        while True:
            item = await notification(notifier_api, client, timeout=90)
            if item["status"] == "pending" and all(d["attempts"] >= 2 for d in item["deliveries"]):
                break
            assert loop.time() < deadline, item
            await asyncio.sleep(0.2)
        assert "connect" in item["deliveries"][0]["last_error"].lower()
        await asyncio.sleep(2)  # down "for a while": the notifier keeps retrying, sends nothing
        assert not mailbox.for_event(env.event_id)
        health = (await notifier_api.get("/health/smtp")).json()
        assert health["status"] == "unreachable"
        metrics = (await notifier_api.get("/metrics")).text
        assert 'notifier_email_retries_total{kind="reminder"}' in metrics
    finally:
        mailbox.start()
    mails = await mailbox.wait_for(env.event_id, 2)
    assert len(mails) == 2
    item = await notification(notifier_api, client, status="sent")
    assert all(d["status"] == "sent" and d["attempts"] >= 3 for d in item["deliveries"])
    assert (await notifier_api.get("/health/smtp")).json()["status"] == "reachable"


async def test_a_malformed_event_is_dead_lettered_and_the_next_event_is_sent(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox, stack: Any
) -> None:
    client = Client()
    key = str(client.client_id).encode()
    garbage = await producer.send_and_wait(
        CONTRACTS_SCHEDULE, value=b'{"event_id": broken', key=key, headers=[("content-type", b"application/json")]
    )
    good = envelope(ending_soon(client), client, version=1)
    await publish(producer, good)

    await mailbox.wait_for(good.event_id, 2)
    dead = await dead_letter_for(stack.kafka_bootstrap, garbage)
    assert dead is not None, "the malformed message is not in the dead-letter topic"
    headers = dict(dead.headers)
    assert dead.value == b'{"event_id": broken' and dead.key == key
    assert headers["dlq_error"].startswith(b"invalid envelope")
    assert headers["dlq_group"] == NOTIFIER_GROUP.encode()
    assert headers["content-type"] == b"application/json"
    metrics = (await notifier_api.get("/metrics")).text
    assert 'notifier_dead_letters_total{reason="undecodable"}' in metrics


async def test_unknown_type_and_invalid_email_are_dead_lettered_with_the_reason(
    notifier_api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    mailbox: Mailbox,
    stack: Any,
    settings: NotifierSettings,
) -> None:
    client = Client(manager_email="irina-at-example.com")
    unknown = envelope(ending_soon(client), client, version=1).model_copy(
        update={"event_type": "ServicePeriodVanished"}
    )
    unknown_meta = await publish(producer, unknown)
    bad_email = envelope(ending_soon(client), client, version=2)
    bad_meta = await publish(producer, bad_email)
    ignored = envelope(started(client), client, version=3)
    await publish(producer, ignored)

    general_only = await mailbox.wait_for(bad_email.event_id, 1)
    assert [m.rcpt_tos[0] for m in general_only] == [settings.general_email]

    dead = await dead_letter_for(stack.kafka_bootstrap, unknown_meta)
    assert dead is not None and dict(dead.headers)["dlq_error"].startswith(b"unknown event type")
    dead = await dead_letter_for(stack.kafka_bootstrap, bad_meta)
    assert dead is not None
    assert b"invalid manager e-mail" in dict(dead.headers)["dlq_error"]

    item = await notification(notifier_api, client)
    assert item["event_id"] == str(bad_email.event_id) and item["status"] == "dead"
    by_recipient = {d["recipient"]: d for d in item["deliveries"]}
    assert by_recipient["irina-at-example.com"]["status"] == "dead"
    assert by_recipient[settings.general_email]["status"] == "sent"
    assert not mailbox.for_event(ignored.event_id)


async def test_a_permanent_refusal_is_recorded_as_failed_without_retries(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox, settings: NotifierSettings
) -> None:
    client = Client(manager_email=f"nobody@{REFUSING_DOMAIN}")
    env = envelope(overdue(client), client, version=1)
    await publish(producer, env)
    await mailbox.wait_for(env.event_id, 1)
    item = await notification(notifier_api, client, status="failed")
    by_recipient = {d["recipient"]: d for d in item["deliveries"]}
    refused = by_recipient[f"nobody@{REFUSING_DOMAIN}"]
    assert refused["status"] == "failed" and refused["attempts"] == 1
    assert "550" in refused["last_error"]
    assert by_recipient[settings.general_email]["status"] == "sent"


async def test_notifications_list_pages_newest_first(notifier_api: httpx.AsyncClient) -> None:
    first = (await notifier_api.get("/notifications", params={"page_size": 2})).json()
    assert len(first["items"]) <= 2 and (first["page"], first["page_size"]) == (1, 2)
    if first["next_page"] is not None:
        second = (await notifier_api.get("/notifications", params={"page_size": 2, "page": 2})).json()
        assert {i["event_id"] for i in first["items"]}.isdisjoint({i["event_id"] for i in second["items"]})
    received = [i["received_at"] for i in first["items"]]
    assert received == sorted(received, reverse=True)
    bad = await notifier_api.get("/notifications", params={"client_id": "nope", "page_size": 0, "page": 2**63})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"client_id", "page_size", "page"}
    ready = await notifier_api.get("/health/ready")
    assert ready.status_code == 200, ready.text
