"""The stack every other integration test stands on: Kafka with consumer groups, the service
databases and their migrations, the SMTP sink, and the migrations runner's promises."""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import aiosmtplib
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from deploy.local import api
from shared.db.migrations import MigrationError, apply_migrations, discover, migrations_dir
from shared.topics import ALL_TOPICS, PAYMENTS

# payments.v1: no service of ours consumes it, so a foreign test record bothers nobody.
TOPIC = PAYMENTS


def _server_url(stack: api.StackInfo, database: str = "postgres") -> str:
    return stack.database_urls["contracts"].rsplit("/", 1)[0] + f"/{database}"


async def _produce(bootstrap: str, key: bytes, value: bytes) -> tuple[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        await producer.start()
        meta = await producer.send_and_wait(TOPIC, value=value, key=key)
        return meta.partition, meta.offset
    finally:
        await producer.stop()


async def test_every_topic_exists_with_its_partitions(stack: api.StackInfo) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([t.name for t in ALL_TOPICS])}
    finally:
        await admin.close()
    for spec in ALL_TOPICS:
        assert described[spec.name]["error_code"] == 0, spec.name
        assert len(described[spec.name]["partitions"]) == spec.partitions, spec.name


async def test_a_consumer_group_reads_and_commits_what_was_produced(stack: api.StackInfo) -> None:
    key, value = uuid.uuid4().hex.encode(), f"stack-check {uuid.uuid4()}".encode()
    partition, offset = await _produce(stack.kafka_bootstrap, key, value)
    tp = TopicPartition(TOPIC, partition)
    group = f"test-stack-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found = None
        async with asyncio.timeout(60):
            while found is None:
                batches = await consumer.getmany(timeout_ms=500)
                found = next((r for r in batches.get(tp, []) if r.key == key), None)
        assert (found.offset, found.value) == (offset, value)
        await consumer.commit({tp: offset + 1})  # lands in __consumer_offsets on this single node
        assert await consumer.committed(tp) == offset + 1
    finally:
        await consumer.stop()


async def test_every_service_database_exists_and_is_migrated(stack: api.StackInfo) -> None:
    assert set(stack.database_urls) == {"contracts", "projections", "tickets", "notifier"}
    for service, url in stack.database_urls.items():
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is not None, service
            applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        finally:
            await conn.close()
        assert applied == {m.version for m in discover(migrations_dir(service))}, service


async def test_the_smtp_sink_keeps_each_message_as_an_eml_file(stack: api.StackInfo) -> None:
    marker = uuid.uuid4().hex
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "stack@abonent.test", "ops@abonent.test", f"check {marker}"
    message.set_content("Grüße aus dem Test")
    await aiosmtplib.send(message, hostname=stack.smtp_host, port=stack.smtp_port)
    async with asyncio.timeout(10):
        while not (found := [p for p in Path(stack.maildir).glob("*.eml") if marker.encode() in p.read_bytes()]):
            await asyncio.sleep(0.1)
    assert len(found) == 1
    parsed = email.message_from_bytes(found[0].read_bytes(), policy=default_policy)
    assert parsed["Subject"] == f"check {marker}"
    assert parsed.get_content().strip() == "Grüße aus dem Test"
    assert not list(Path(stack.maildir).glob(".*.tmp"))


@pytest.fixture
async def scratch_db(stack: api.StackInfo) -> AsyncIterator[str]:
    name = f"migr_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_server_url(stack))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _server_url(stack, name)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _two_migrations(directory: Path) -> Path:
    directory.mkdir()
    (directory / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);\n")
    (directory / "0002_more_things.sql").write_text(
        "ALTER TABLE things ADD COLUMN name text;\nINSERT INTO things VALUES (1, 'one');\n"
    )
    return directory


async def test_migrations_apply_once_and_a_second_run_applies_nothing(scratch_db: str, tmp_path: Path) -> None:
    directory = _two_migrations(tmp_path / "migrations")
    assert await apply_migrations(scratch_db, directory) == ["0001_things", "0002_more_things"]
    assert await apply_migrations(scratch_db, directory) == []
    conn = await asyncpg.connect(scratch_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM things") == 1
    finally:
        await conn.close()


async def test_two_starters_at_once_apply_each_file_exactly_once(scratch_db: str, tmp_path: Path) -> None:
    directory = _two_migrations(tmp_path / "migrations")
    results = await asyncio.gather(*(apply_migrations(scratch_db, directory) for _ in range(4)))
    assert sorted(v for r in results for v in r) == ["0001_things", "0002_more_things"]


async def test_a_changed_migration_is_refused(scratch_db: str, tmp_path: Path) -> None:
    directory = _two_migrations(tmp_path / "migrations")
    await apply_migrations(scratch_db, directory)
    (directory / "0001_things.sql").write_text("CREATE TABLE things (id bigint PRIMARY KEY);\n")
    (directory / "0003_new.sql").write_text("CREATE TABLE newer (id int);\n")
    with pytest.raises(MigrationError, match="0001_things.sql was changed after it was applied"):
        await apply_migrations(scratch_db, directory)
    conn = await asyncpg.connect(scratch_db)
    try:  # refused before anything new ran
        assert await conn.fetchval("SELECT to_regclass('newer')") is None
    finally:
        await conn.close()


async def _build_an_index_while_writing(scratch_db: str, tmp_path: Path, create: str) -> tuple[list[str], str | None]:
    """Apply a migration ``create``-ing an index on a table while another transaction has an
    uncommitted write on it (the index build must wait for that one), and meanwhile insert a
    row from a third connection. Returns (versions applied, the insert's error or None)."""
    setup = await asyncpg.connect(scratch_db)
    writing = await asyncpg.connect(scratch_db)
    open_tx = await asyncpg.connect(scratch_db)
    try:
        await setup.execute("CREATE TABLE big (id bigint PRIMARY KEY, name text)")
        await setup.execute("INSERT INTO big SELECT g, 'n' || g FROM generate_series(1, 20000) g")
        await open_tx.execute("BEGIN")
        await open_tx.execute("INSERT INTO big VALUES (-1, 'open')")
        directory = tmp_path / "migrations"
        directory.mkdir()
        (directory / "0001_index.sql").write_text(create)
        migrating = asyncio.ensure_future(apply_migrations(scratch_db, directory))
        async with asyncio.timeout(10):  # until the build waits for the open transaction
            while not await setup.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%CREATE INDEX%'"
            ):
                await asyncio.sleep(0.05)
        await writing.execute("SET lock_timeout = '2s'")
        error = None
        try:
            await writing.execute("INSERT INTO big VALUES (-2, 'during the migration')")
        except asyncpg.LockNotAvailableError as exc:
            error = str(exc)
        assert not migrating.done()
        await open_tx.execute("COMMIT")
        return await migrating, error
    finally:
        for conn in (setup, writing, open_tx):
            await conn.close()


async def test_a_no_transaction_migration_builds_an_index_while_writes_go_on(scratch_db: str, tmp_path: Path) -> None:
    """Issue 20: CREATE INDEX CONCURRENTLY through the runner (``-- abonent: no-transaction``):
    a write made while the build runs commits at once; the migration is recorded and its index
    valid. Beside it the same index in an ordinary (transactional) migration: the write waits
    behind the build's lock and gives up after its lock_timeout — what the marker is for."""
    applied, error = await _build_an_index_while_writing(
        scratch_db,
        tmp_path,
        "-- abonent: no-transaction\n"
        "-- a rerun after a failed build starts clean\n"
        "DROP INDEX CONCURRENTLY IF EXISTS big_name_idx;\n"
        "CREATE INDEX CONCURRENTLY big_name_idx ON big (name);\n",
    )
    assert applied == ["0001_index"] and error is None
    conn = await asyncpg.connect(scratch_db)
    try:
        assert await conn.fetchval("SELECT version FROM schema_migrations") == "0001_index"
        assert await conn.fetchval("SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_name_idx'::regclass")
        assert await conn.fetchval("SELECT count(*) FROM big WHERE id < 0") == 2
    finally:
        await conn.close()


async def test_an_ordinary_index_migration_holds_writes(scratch_db: str, tmp_path: Path) -> None:
    applied, error = await _build_an_index_while_writing(
        scratch_db, tmp_path, "CREATE INDEX big_name_idx ON big (name);\n"
    )
    assert applied == ["0001_index"]
    assert error is not None and "lock timeout" in error


async def test_the_broker_can_be_stopped_and_started_again(stack: api.StackInfo) -> None:
    if not stack.managed or stack.run_dir is None:
        pytest.skip("only a stack this session started itself can have its broker restarted")
    await asyncio.to_thread(api.stop_kafka, stack.run_dir)
    with pytest.raises(Exception):  # noqa: B017 - any connection failure will do
        async with asyncio.timeout(5):
            await _produce(stack.kafka_bootstrap, b"k", b"while down")
    await asyncio.to_thread(api.start_kafka, stack.run_dir)
    partition, offset = await _produce(stack.kafka_bootstrap, b"k", b"after restart")
    assert offset >= 0 and partition >= 0
