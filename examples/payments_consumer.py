"""A complete small consumer of Abonent's public feed ``payments.v1`` (docs/integrating.md).

It keeps a payments ledger and the open debts in SQLite, the way an accounting system would:

* **at least once, exactly one effect**: Kafka may deliver a record twice (a relay retry, a
  rebalance, a replay). Each record's effect and its ``event_id`` are written in ONE SQLite
  transaction; an ``event_id`` already there is skipped;
* **commit after processing**: the Kafka offsets are committed only after the fetch's effects
  are committed in SQLite; a crash in between redelivers, and the dedupe absorbs it;
* **ordering per client**: the key is the client id, so one client's events arrive in order;
* **unknown event types and fields are ignored** (the feed may grow within ``payments.v1``);
* **a record that is not an envelope is set aside, not fatal**: kept in ``rejected`` with its
  coordinates and the error, so one foreign record never stops the ledger.

Run it against the local stack (``make up``)::

    .venv/bin/python examples/payments_consumer.py --bootstrap-servers 127.0.0.1:19092 \
        --group accounting-demo --db /tmp/ledger.sqlite --stop-when-idle 10

and against a production cluster with SASL/SCRAM over TLS (the password from the environment)::

    KAFKA_SASL_PASSWORD=... python examples/payments_consumer.py --bootstrap-servers kafka.example:9093 \
        --security-protocol SASL_SSL --sasl-mechanism SCRAM-SHA-512 --sasl-username accounting \
        --ssl-cafile /etc/ssl/abonent-ca.pem --group accounting --db ledger.sqlite

Needs only ``aiokafka`` (``pip install aiokafka``) and the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.helpers import create_ssl_context

TOPIC = "payments.v1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, contract_id TEXT NOT NULL,
    period_id TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL, paid_on TEXT NOT NULL,
    reference TEXT, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, error TEXT NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE TABLE IF NOT EXISTS debts (
    period_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, contract_id TEXT NOT NULL,
    amount_due TEXT NOT NULL, currency TEXT NOT NULL, due_on TEXT NOT NULL
);
"""


def envelope(value: bytes) -> dict[str, Any]:
    """The record's value as an envelope; ValueError when it is not one."""
    event = json.loads(value)
    if not isinstance(event, dict) or not {"event_id", "event_type", "data"} <= event.keys():
        raise ValueError("not an envelope")
    return event


def apply(db: sqlite3.Connection, event: dict[str, Any]) -> bool:
    """Apply one envelope's effect in the open transaction; False for a duplicate."""
    seen = db.execute(
        "INSERT OR IGNORE INTO processed (event_id, event_type) VALUES (?, ?)", (event["event_id"], event["event_type"])
    )
    if seen.rowcount == 0:
        return False
    data = event["data"]
    match event["event_type"]:
        case "PaymentRecorded":
            db.execute(
                "INSERT OR REPLACE INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'recorded')",
                (
                    data["payment_id"],
                    data["client_id"],
                    data["contract_id"],
                    data["period_id"],
                    data["amount"],
                    data["currency"],
                    data["paid_on"],
                    data.get("reference"),
                ),
            )
        case "PaymentCancelled":
            db.execute("UPDATE payments SET state = 'cancelled' WHERE payment_id = ?", (data["payment_id"],))
        case "PeriodBecameOverdue":
            db.execute(
                "INSERT OR REPLACE INTO debts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    data["period_id"],
                    data["client_id"],
                    data["contract_id"],
                    data["amount_due"],
                    data["currency"],
                    data["due_on"],
                ),
            )
        case "DebtSettled" | "DebtWrittenOff":
            db.execute("DELETE FROM debts WHERE period_id = ?", (data["period_id"],))
        case _:
            pass  # PeriodAdjusted and types added later: this ledger does not need them
    return True


def kafka_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"bootstrap_servers": args.bootstrap_servers, "security_protocol": args.security_protocol}
    if args.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=args.ssl_cafile)
    if args.security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=args.sasl_mechanism,
            sasl_plain_username=args.sasl_username,
            sasl_plain_password=os.environ["KAFKA_SASL_PASSWORD"],
        )
    return options


async def consume(args: argparse.Namespace) -> dict[str, int]:
    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    consumer = AIOKafkaConsumer(
        TOPIC,
        **kafka_options(args),
        group_id=args.group,
        auto_offset_reset="earliest",  # a new group replays the feed from its beginning
        enable_auto_commit=False,  # offsets are committed below, after the effects
    )
    counts = {"applied": 0, "duplicates": 0, "rejected": 0}
    await consumer.start()
    try:
        idle = 0.0
        while args.stop_when_idle is None or idle < args.stop_when_idle:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            if not batches:
                idle += 1.0
                continue
            idle = 0.0
            with db:  # one SQLite transaction for the fetch: effects + event ids together
                for records in batches.values():
                    for record in records:
                        try:
                            event = envelope(record.value)
                        except (ValueError, TypeError) as exc:
                            db.execute(
                                "INSERT OR IGNORE INTO rejected VALUES (?, ?, ?, ?)",
                                (record.topic, record.partition, record.offset, repr(exc)[:500]),
                            )
                            counts["rejected"] += 1
                            continue
                        applied = apply(db, event)
                        counts["applied" if applied else "duplicates"] += 1
            await consumer.commit()  # only now: a crash before this redelivers, and dedupe absorbs it
    finally:
        await consumer.stop()
        db.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument("--group", required=True, help="your consumer group (one per consuming system)")
    parser.add_argument("--db", required=True, help="the SQLite file of the ledger")
    parser.add_argument("--security-protocol", default="PLAINTEXT", choices=["PLAINTEXT", "SSL", "SASL_SSL"])
    parser.add_argument(
        "--sasl-mechanism", default="SCRAM-SHA-512", choices=["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
    )
    parser.add_argument("--sasl-username")
    parser.add_argument("--ssl-cafile", help="CA bundle that signed the brokers' certificates")
    parser.add_argument("--stop-when-idle", type=float, help="stop after this many seconds without a record")
    args = parser.parse_args(argv)
    counts = asyncio.run(consume(args))
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
