"""What a deployment relies on, against the real PostgreSQL and Kafka of the test stack:
readiness that means "can serve" (contracts and tickets stay ready and take writes while Kafka
is away), the scheduler's and the standalone relay's probes and metrics on their own port,
`python -m services.<name> migrate` for every service, and topic creation with a replication
factor and min.insync.replicas."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.contracts.bootstrap import create_app as contracts_app
from services.contracts.settings import ContractsSettings
from services.tickets.bootstrap import create_app as tickets_app
from services.tickets.settings import TicketsSettings
from shared.kafka_security import plaintext
from shared.kafka_topics import TopicSettings, create_topics
from shared.topics import TopicSpec
from tests.integration.conftest import server_url
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.servers import free_port, serving

REPO = Path(__file__).resolve().parents[2]
NO_KAFKA = {"bootstrap_servers": "127.0.0.1:1"}  # nothing listens there


async def test_contracts_stays_ready_and_takes_writes_while_kafka_is_away(stack) -> None:
    settings = ContractsSettings(database_url=stack.database_urls["contracts"], http_port=0, kafka=NO_KAFKA)
    async with serving(contracts_app(settings)) as api:
        ready = await api.get("/health/ready")
        body = ready.json()
        assert ready.status_code == 200, body
        assert body["checks"] == {"database": "ok"}
        assert body["informational"]["kafka"].startswith("failing")
        signed = await sign_client_for_a_year(api)  # the outbox keeps the events until Kafka is back
        assert signed.position > 0
        metrics = (await api.get("/metrics")).text
        assert 'health_check_up{check="kafka"} 0.0' in metrics
        assert 'health_check_up{check="database"} 1.0' in metrics


async def test_tickets_stays_ready_while_kafka_is_away(stack) -> None:
    settings = TicketsSettings(
        database_url=stack.database_urls["tickets"], http_port=0, projections_url="http://127.0.0.1:1", kafka=NO_KAFKA
    )
    async with serving(tickets_app(settings)) as api:
        ready = await api.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["informational"]["kafka"].startswith("failing")
        assert (await api.get("/health/live")).json() == {"status": "ok"}


async def test_readiness_still_fails_when_the_database_is_away(stack) -> None:
    settings = ContractsSettings(database_url=stack.database_urls["contracts"], http_port=0, kafka=NO_KAFKA)
    app = contracts_app(settings)
    async with serving(app) as api:
        gone = await asyncpg.create_pool(stack.database_urls["contracts"], min_size=1, max_size=1)
        await gone.close()
        app.state.pool = gone  # what the readiness check asks can no longer answer
        ready = await api.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("failing")


# --- processes without an API of their own ------------------------------------------------


@pytest.fixture
def process_env(stack) -> dict[str, str]:
    return {**os.environ, **stack.env(), "ABONENT_LOG_FORMAT": "json"}


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def _answering(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        assert process.poll() is None, (process.stderr.read() if process.stderr else b"").decode()[-2000:]
        try:
            if (await client.get("/health/live")).status_code == 200:
                return client
        except httpx.TransportError:
            pass
        assert asyncio.get_running_loop().time() < deadline, "no answer on the probe port"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("which", ["scheduler", "relay"])
async def test_scheduler_and_relay_answer_probes_and_metrics_on_their_port(
    which: str, process_env: dict[str, str], stopped: list[subprocess.Popen[bytes]], stack
) -> None:
    port = free_port()
    if which == "scheduler":
        env = {
            **process_env,
            "CONTRACTS_SCHEDULER_HTTP_PORT": str(port),
            "CONTRACTS_SCHEDULER_INTERVAL_SECONDS": "3600",
        }
        args = ["-m", "services.contracts.entrypoints.scheduler"]
    else:
        env = {**process_env, "OUTBOX_HTTP_PORT": str(port), "OUTBOX_DATABASE_URL": stack.database_urls["tickets"]}
        args = ["-m", "shared.outbox", "--client-id", f"probe-test-{uuid.uuid4().hex[:6]}"]
    process = _spawn(args, env)
    stopped.append(process)
    client = await _answering(port, process)
    try:
        ready = await client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}, ready.text
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and 'health_check_up{check="database"} 1.0' in metrics.text
    finally:
        await client.aclose()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, (process.stderr.read() if process.stderr else b"").decode()[-2000:]


# --- migrate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "prefix"),
    [("contracts", "CONTRACTS_"), ("projections", "PROJECTIONS_"), ("tickets", "TICKETS_"), ("notifier", "NOTIFY_")],
)
async def test_migrate_applies_every_migration_once_and_needs_only_the_database_url(
    service: str, prefix: str, stack, tmp_path: Path
) -> None:
    name = f"migrate_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url(stack.database_urls["contracts"], "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = server_url(stack.database_urls["contracts"], name)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), f"{prefix}DATABASE_URL": url}  # nothing else set
        for _ in range(2):  # the second run finds nothing to do
            done = subprocess.run(
                [sys.executable, "-m", f"services.{service}", "migrate"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        conn = await asyncpg.connect(url)
        try:
            applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        finally:
            await conn.close()
        expected = {p.stem for p in (REPO / "services" / service / "migrations").glob("*.sql")}
        assert applied == expected
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_migrate_without_a_database_url_says_which_variable(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.notifier", "migrate"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "NOTIFY_DATABASE_URL" in done.stderr


# --- topics ----------------------------------------------------------------------------------


async def test_topics_get_their_replication_and_min_insync_replicas(stack) -> None:
    kafka = plaintext(stack.kafka_bootstrap)
    spec = TopicSpec(f"ops.{uuid.uuid4().hex[:8]}", 3)
    created = await create_topics(kafka, TopicSettings(replication_factor=1, min_insync_replicas=1), [spec])
    assert created == [spec.name]
    assert await create_topics(kafka, TopicSettings(), [spec]) == []  # idempotent
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
        configs = {name: value for name, value, *_ in described.resources[0][4]}
        assert configs["min.insync.replicas"] == "1" and configs["retention.ms"] == "-1"
    finally:
        await admin.close()
    with pytest.raises(RuntimeError, match="refused"):  # three copies on one broker cannot be
        await create_topics(
            kafka,
            TopicSettings(replication_factor=3, min_insync_replicas=2),
            [TopicSpec(f"ops.{uuid.uuid4().hex[:8]}", 1)],
        )
    with pytest.raises(ValueError, match="MIN_INSYNC"):
        await create_topics(kafka, TopicSettings(replication_factor=1, min_insync_replicas=2), [spec])
