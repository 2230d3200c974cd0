"""One fixture layer for every test that needs real Kafka and PostgreSQL.

``stack`` comes from, in this order:
1. environment variables ``ABONENT_TEST_KAFKA_BOOTSTRAP_SERVERS`` and ``ABONENT_TEST_PG_URL``
   (a server URL; the per-service databases are created in it and migrated);
2. testcontainers, when a Docker engine answers;
3. otherwise the project's own launcher, on free ports in a temporary run directory,
   stopped at the end of the session.
Unit tests never ask for it, so they start nothing.

Bearer tokens: the session has one HS256 secret, put in the environment here (as
``stack.env`` does for a developer's stack), so every service a test builds from its
settings verifies tokens with it, and ``tests.support.auth`` mints them. Future ticks are
allowed, as on the local stack (a test of the refusal turns it off explicitly).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import api
from deploy.local.layout import SERVICES, RunDir, StackPorts, run_async

os.environ.setdefault("ABONENT_AUTH_HS256_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("CONTRACTS_ALLOW_FUTURE_TICKS", "true")
TOKEN_SECRET = os.environ["ABONENT_AUTH_HS256_SECRET"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no"
        return False


def _prepared(kafka_bootstrap: str, server_url: str, run_dir: Path, smtp_port: int) -> api.StackInfo:
    """Databases, migrations and topics on servers someone else runs."""
    import asyncpg

    from deploy.local.topics import create_topics
    from shared.db.migrations import apply_migrations, migrations_dir
    from shared.kafka_security import plaintext

    base = server_url.rsplit("/", 1)[0]
    urls = {s: f"{base}/{api.database_name(s)}" for s in SERVICES}

    async def prepare() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
            for s in SERVICES:
                if api.database_name(s) not in existing:
                    await conn.execute(f'CREATE DATABASE "{api.database_name(s)}"')
        finally:
            await conn.close()
        for s in SERVICES:
            await apply_migrations(urls[s], migrations_dir(s))
        await create_topics(plaintext(kafka_bootstrap))

    run_async(prepare())
    api.start_smtp(RunDir(run_dir), StackPorts(smtp=smtp_port))
    return api.StackInfo(
        run_dir=run_dir,
        kafka_bootstrap=kafka_bootstrap,
        database_urls=urls,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        maildir=run_dir / "mail",
        managed=False,
        auth_secret=TOKEN_SECRET,
    )


@pytest.fixture(scope="session")
def stack() -> Iterator[api.StackInfo]:
    run_dir = Path(tempfile.mkdtemp(prefix="abonent-test-"))
    smtp_port = StackPorts.free().smtp
    if os.environ.get("ABONENT_TEST_KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("ABONENT_TEST_PG_URL"):
        info = _prepared(
            os.environ["ABONENT_TEST_KAFKA_BOOTSTRAP_SERVERS"], os.environ["ABONENT_TEST_PG_URL"], run_dir, smtp_port
        )
        yield info
        api.stop_stack(run_dir)
    elif _docker_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with KafkaContainer().with_kraft() as kafka_c, PostgresContainer("postgres:15") as pg_c:
            server = pg_c.get_connection_url(driver=None).replace("postgresql+psycopg2", "postgresql")
            info = _prepared(kafka_c.get_bootstrap_server(), server, run_dir, smtp_port)
            yield info
            api.stop_stack(run_dir)
    else:
        info = api.start_stack(run_dir, StackPorts.free(), progress=lambda _: None, auth_secret=TOKEN_SECRET)
        try:
            yield info
        finally:
            api.stop_stack(run_dir, purge=True)
