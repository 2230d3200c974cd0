"""examples/payments_consumer.py, run as docs/integrating.md shows it, against the real broker:
its ledger holds exactly the scenario's payments, a foreign record on the feed is set aside,
and reading the feed again (a new group replays from the beginning: every record a
duplicate) changes nothing. And the guide's kcat line, run as written."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import sqlite3
import sys
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer

from tests.integration.wire.records import read_records

REPO = Path(__file__).resolve().parents[3]
GUIDE = REPO / "docs" / "integrating.md"


def documented_command() -> list[str]:
    """The consumer's command line from the guide (continuation lines joined)."""
    text = GUIDE.read_text().replace("\\\n", " ")
    match = re.search(r"^\.venv/bin/python examples/payments_consumer\.py .*$", text, re.MULTILINE)
    assert match, "docs/integrating.md shows no command running examples/payments_consumer.py"
    return shlex.split(match.group(0))


async def run(command: list[str]) -> dict[str, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, err.decode()[-2000:]
    return json.loads(out.decode().strip().splitlines()[-1])


def with_options(command: list[str], **options: str) -> list[str]:
    """``command`` with ``--name value`` replaced (the test broker's address, a fresh group…)."""
    out = list(command)
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        out[out.index(flag) + 1] = value
    return out


async def test_the_example_consumer_keeps_the_scenarios_payments_once(stack, played, tmp_path) -> None:
    recorded = list(played.payments.values())
    await read_records(  # every payment of the scenario is on the feed before the consumer starts
        stack.kafka_bootstrap,
        "payments.v1",
        keys={played.client_id},
        until=lambda found: (
            sum(dict(r.headers)["event_type"] == b"PaymentRecorded" for r in found) >= len(recorded)
            and any(dict(r.headers)["event_type"] == b"DebtWrittenOff" for r in found)
        ),
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:  # a foreign record on the feed is set aside, never fatal
        await producer.send_and_wait("payments.v1", value=b"not json", key=uuid.uuid4().hex.encode())
    finally:
        await producer.stop()
    ledger = tmp_path / "ledger.sqlite"
    command = with_options(
        documented_command(),
        bootstrap_servers=stack.kafka_bootstrap,
        group=f"accounting-{uuid.uuid4().hex[:6]}",
        db=str(ledger),
        stop_when_idle="3",
    )
    first = await run(command)
    assert first["applied"] > 0 and first["rejected"] >= 1

    db = sqlite3.connect(ledger)
    rows = db.execute(
        "SELECT payment_id, period_id, amount, state FROM payments WHERE client_id = ?", (played.client_id,)
    ).fetchall()
    assert sorted(rows) == sorted((pid, p["period_id"], p["amount"], p["state"]) for pid, p in played.payments.items())
    debts = db.execute("SELECT count(*) FROM debts WHERE client_id = ?", (played.client_id,)).fetchone()[0]
    assert debts == 0  # Q2's debt was settled, Q3's written off
    before = db.execute("SELECT count(*) FROM processed").fetchone()[0]
    db.close()

    again = await run(with_options(command, group=f"accounting-{uuid.uuid4().hex[:6]}"))  # replays everything
    assert again["duplicates"] >= before
    db = sqlite3.connect(ledger)
    assert sorted(
        db.execute(
            "SELECT payment_id, period_id, amount, state FROM payments WHERE client_id = ?", (played.client_id,)
        ).fetchall()
    ) == sorted(rows)
    db.close()


async def test_the_guides_kcat_line_shows_the_feed_with_keys_and_headers(stack, played) -> None:
    # the guide promises this line runs: without kcat the promise is unchecked, so that fails
    assert shutil.which("kcat"), "kcat is not installed: make install installs it (apt-get install kcat)"
    await read_records(
        stack.kafka_bootstrap, "payments.v1", keys={played.client_id}, until=lambda found: len(found) > 0
    )
    match = re.search(r"^kcat .*$", GUIDE.read_text(), re.MULTILINE)
    assert match, "docs/integrating.md shows no kcat line"
    command = shlex.split(match.group(0).replace("127.0.0.1:19092", stack.kafka_bootstrap))
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert f"key={played.client_id}" in text
    assert "event_type=PaymentRecorded" in text and '"event_type":"PaymentRecorded"' in text
