"""API fuzzing (issue 15 "API fuzzing in CI"): schemathesis against each service's own OpenAPI
document, the services running as processes on the test stack, with an admin token (admin
may call every operation). Positive and negative data, a bounded number of examples per
operation, and the checks not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance and negative_data_rejection: zero
failures. A failure it finds is fixed in the services, not here.

The services get databases of their own (created here, dropped after), no relay and no
consumers, and the scheduler refuses future ticks: the fuzzer's writes stay out of the
other tests' way. The coverage phase's options are in ``schemathesis.toml`` beside this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from deploy.local.layout import StackPorts, run_async
from deploy.local.services import start_services, stop_services
from shared.db.migrations import apply_migrations, migrations_dir
from tests.support.auth import token

SERVICES = ("contracts", "projections", "tickets", "notifier")
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection"
)
MAX_EXAMPLES = int(os.environ.get("ABONENT_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("ABONENT_FUZZ_SEED", "15")


def _server(url: str) -> str:
    return url.rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def fuzzed(stack, tmp_path_factory) -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    server = _server(stack.database_urls["contracts"])
    urls = {s: f"{server}/fuzz_{s}_{suffix}" for s in SERVICES}

    async def create() -> None:
        admin = await asyncpg.connect(f"{server}/postgres")
        try:
            for s in SERVICES:
                await admin.execute(f'CREATE DATABASE "fuzz_{s}_{suffix}"')
        finally:
            await admin.close()
        for s in SERVICES:
            await apply_migrations(urls[s], migrations_dir(s))

    async def drop() -> None:
        admin = await asyncpg.connect(f"{server}/postgres")
        try:
            for s in SERVICES:
                await admin.execute(f'DROP DATABASE IF EXISTS "fuzz_{s}_{suffix}" WITH (FORCE)')
        finally:
            await admin.close()

    run_async(create())
    run_dir = tmp_path_factory.mktemp("fuzz")
    free = StackPorts.free()
    ports = {"contracts": free.kafka, "projections": free.controller, "tickets": free.postgres, "notifier": free.smtp}
    env = {
        **stack.env(),
        "CONTRACTS_DATABASE_URL": urls["contracts"],
        "PROJECTIONS_DATABASE_URL": urls["projections"],
        "TICKETS_DATABASE_URL": urls["tickets"],
        "NOTIFY_DATABASE_URL": urls["notifier"],
        "CONTRACTS_ALLOW_FUTURE_TICKS": "false",
        "CONTRACTS_RUN_RELAY": "false",
        "TICKETS_RUN_RELAY": "false",
        "PROJECTIONS_CONSUME": "false",
        "NOTIFY_CONSUME": "false",
        # a min_position nobody reaches is waited for (bounded) on every such request: keep it short
        "PROJECTIONS_MIN_POSITION_WAIT_SECONDS": "0.1",
        "TICKETS_COVERAGE_WAIT_TIMEOUT_SECONDS": "0.5",
    }
    try:
        yield start_services(run_dir, env, ports, progress=lambda _: None)
    finally:
        stop_services(run_dir)
        run_async(drop())


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_nothing(fuzzed: dict[str, str], service: str, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("schemathesis")
    command = [
        str(st),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{fuzzed[service]}/openapi.json",
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--header",
        f"Authorization: Bearer {token('admin', sub='schemathesis')}",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"schemathesis found failures in {service}:\n{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
    )
