"""The machine's own ceilings and scratch space: pgbench, Kafka's ProducerPerformance,
scratch databases and topics in the bench's stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from deploy.local import postgres
from deploy.local.kafka import LIBS, LOG4J
from deploy.local.layout import RunDir, StackPorts
from deploy.local.postgres import bindir


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def own_postgres(name: str) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server of the bench's own (free port, temp dir), stopped and removed after:
    (the work directory, the URL of its ``postgres`` database)."""
    work = Path(tempfile.mkdtemp(prefix=f"abonent-bench-{name}-"))
    run, ports = RunDir(work / "run"), StackPorts.free()
    try:
        postgres.start(run, ports)
        yield work, postgres.url(ports, "postgres", postgres.password(run))
    finally:
        postgres.stop(run)
        shutil.rmtree(work, ignore_errors=True)


async def scratch_database(dsn: str, name: str) -> str:
    """Create (or empty) database ``name`` beside ``dsn``'s; returns its URL."""
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(dsn, name)


async def create_topic(bootstrap: str, name: str, partitions: int = 12) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


# --- PostgreSQL: single-row INSERT transactions per second ---------------------------------

PGBENCH_SCRIPT = 'INSERT INTO bench_insert (client_id, data) VALUES (gen_random_uuid(), \'{"amount": "100.00"}\');\n'


async def prepare_pgbench(dsn: str) -> str:
    url = await scratch_database(dsn, "bench_pgbench")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("""CREATE TABLE bench_insert (
            id bigserial PRIMARY KEY, client_id uuid NOT NULL, data jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp())""")
    finally:
        await conn.close()
    return url


def pgbench(url: str, seconds: int, clients: int = 16, threads: int = 2) -> float:
    """Transactions/s of one single-row INSERT each, autocommit, ``clients`` connections."""
    exe = shutil.which("pgbench") or str(bindir() / "pgbench")
    parts = urlsplit(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT)
        script = f.name
    try:
        out = subprocess.run(
            [
                exe,
                "-n",
                "-h",
                parts.hostname or "127.0.0.1",
                "-p",
                str(parts.port),
                "-U",
                parts.username or "abonent",
                "-c",
                str(clients),
                "-j",
                str(threads),
                "-T",
                str(seconds),
                "-f",
                script,
                parts.path.lstrip("/"),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            # the local stack authenticates with a password (scram-sha-256); never on the command line
            env={**os.environ, "PGPASSWORD": unquote(parts.password or "")},
        )
    finally:
        Path(script).unlink(missing_ok=True)
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if out.returncode != 0 or not found:
        raise RuntimeError(f"pgbench failed: {out.stderr.strip()[-300:] or out.stdout[-300:]}")
    return float(found.group(1))


# --- Kafka: the broker's own producer throughput ------------------------------------------


def producer_performance(bootstrap: str, topic: str, records: int, record_size: int) -> float:
    """Records/s of Kafka's ProducerPerformance with the relay's producer settings
    (acks=all, idempotent, linger 2 ms, 256 KiB batches)."""
    argv = [
        "java",
        "-Xmx512m",
        "-cp",
        f"{LIBS}/*",
        f"-Dlog4j2.configurationFile={LOG4J}",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=2",
        "batch.size=262144",
        "client.id=bench-producer-perf",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if "records sent" in ln]
    found = re.search(r"([\d.]+) records/sec", lines[-1]) if lines else None
    if out.returncode != 0 or not found:
        raise RuntimeError(f"ProducerPerformance failed: {(out.stderr or out.stdout).strip()[-300:]}")
    return float(found.group(1))
