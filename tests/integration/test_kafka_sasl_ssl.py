"""The closed perimeter, end to end: a broker that only speaks SASL_SSL (SCRAM users made at
storage format time, a certificate from a throw-away CA), and a command → outbox relay →
projection round trip through it.

The contracts service (its relay inside) logs in as ``contracts`` with SCRAM-SHA-512, the
projections consumer as ``projections`` with SCRAM-SHA-256; both verify the broker's
certificate against the test's CA. A client without the password, or without TLS, gets nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from deploy.local import kafka
from deploy.local.layout import RunDir, StackPorts, run_async
from deploy.local.topics import create_topics
from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from services.projections.bootstrap import create_app as projections_app
from services.projections.settings import ProjectionsSettings
from shared.db.migrations import apply_migrations, migrations_dir
from shared.kafka_security import client_options, plaintext
from shared.settings import KafkaSettings
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.servers import serving
from tests.support.tls import make_tls_files


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    sasl_ssl: kafka.SaslSsl

    def client(self, user: str, mechanism: str = "SCRAM-SHA-512") -> KafkaSettings:
        return self.sasl_ssl.client(self.bootstrap, user, mechanism)


@pytest.fixture(scope="module")
def secure_broker() -> Iterator[SecureBroker]:
    root = Path(tempfile.mkdtemp(prefix="abonent-sasl-"))
    tls = make_tls_files(root / "tls")
    users = {name: uuid.uuid4().hex for name in ("broker", "contracts", "projections")}
    sasl_ssl = kafka.SaslSsl(keystore=tls.server, truststore=tls.ca, users=users)
    ports, run = StackPorts.free(), RunDir(root)
    kafka.fetch_jars()
    kafka.start(run, ports, timeout=180, sasl_ssl=sasl_ssl)  # 2 shared cores: be patient
    try:
        broker = SecureBroker(f"127.0.0.1:{ports.kafka}", sasl_ssl)
        run_async(create_topics(broker.client("contracts")))
        yield broker
    finally:
        kafka.stop(run)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def fresh_databases(stack) -> AsyncIterator[dict[str, str]]:
    """Databases of their own: the relay must not drain the shared stack's outbox."""
    base = stack.database_urls["contracts"].rsplit("/", 1)[0]
    names = {s: f"sasl_{s}_{uuid.uuid4().hex[:8]}" for s in ("contracts", "projections")}
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        for name in names.values():
            await admin.execute(f'CREATE DATABASE "{name}"')
        urls = {s: f"{base}/{name}" for s, name in names.items()}
        for service, url in urls.items():
            await apply_migrations(url, migrations_dir(service))
        yield urls
        for name in names.values():
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _refused(kafka_settings: KafkaSettings) -> bool:
    admin = AIOKafkaAdminClient(**client_options(kafka_settings), request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 15)
        await asyncio.wait_for(admin.list_topics(), 5)
        return False
    except (KafkaError, TimeoutError, OSError):
        return True
    finally:
        await admin.close()


async def test_a_command_reaches_the_read_model_through_sasl_ssl(secure_broker, fresh_databases) -> None:
    contracts = create_app(
        ContractsSettings(
            database_url=fresh_databases["contracts"], http_port=0, kafka=secure_broker.client("contracts")
        )
    )
    projections = projections_app(
        ProjectionsSettings(
            database_url=fresh_databases["projections"],
            http_port=0,
            batch_timeout_ms=50,
            kafka=secure_broker.client("projections", "SCRAM-SHA-256"),
        )
    )
    async with serving(contracts) as contracts_api, serving(projections) as projections_api:
        signed = await sign_client_for_a_year(contracts_api)
        coverage = await _coverage_when_projected(projections_api, signed.client_id, signed.position)
        assert coverage["status"] == "unpaid"  # signed, nothing paid yet: the read model knows it
        listed = (await projections_api.get("/contracts", params={"client_id": signed.client_id})).json()
        assert [c["contract_id"] for c in listed["items"]] == [signed.contract_id]
        for api in (contracts_api, projections_api):  # the readiness probes log in too
            assert (await api.get("/health/ready")).json()["informational"]["kafka"] == "ok"


async def test_without_the_password_or_without_tls_the_broker_says_nothing(secure_broker) -> None:
    wrong = secure_broker.client("contracts").model_copy(update={"sasl_password": SecretStr("guess")})
    assert await _refused(wrong)
    assert await _refused(plaintext(secure_broker.bootstrap))


async def _coverage_when_projected(api: httpx.AsyncClient, client_id: str, position: int) -> dict:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        r = await api.get(f"/clients/{client_id}/coverage", params={"on": "2026-02-01", "min_position": position})
        if r.status_code == 200:
            return r.json()
        assert asyncio.get_running_loop().time() < deadline, f"never projected: {r.status_code} {r.text}"
        await asyncio.sleep(0.2)
