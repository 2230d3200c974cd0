"""A ceiling for the relay in Python: aiokafka alone, sending what the relay sends, no database.

The relay's target is a share of Kafka's own ``ProducerPerformance`` (Java). This is the other
side of that gap: the same producer settings as ``shared.outbox.relay.make_producer`` (acks=all,
idempotent, linger 2 ms, 256 KiB batches), the relay's way of sending (one record batch per
partition built with ``create_batch``, handed over with ``send_batch``, the acks of a whole
chunk awaited together) and records of the relay bench's average size, keyed like outbox rows
(one key per stream, so they spread over the partitions) — but read from memory instead of the
outbox, and nothing deleted after. What the relay does beyond it is PostgreSQL's read and delete,
its own bookkeeping and the envelope's headers.

    python -m bench.producer_ceiling --bootstrap 127.0.0.1:9092 --topic t --records 1000000 --size 700

prints the records/s (first send → last ack) as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import orjson
import uvloop
from aiokafka.partitioner import DefaultPartitioner

from deploy.local.layout import REPO
from shared.outbox.relay import make_producer
from shared.settings import KafkaSettings

CHUNK = 1000
"""Records whose acks are awaited together: the relay's default ``batch_size``."""
STREAMS = 10_000
"""Distinct keys cycled through (streams in the outbox sample are many more than partitions)."""


def _keys() -> list[bytes]:
    return [f"contract-{n:08d}".encode() for n in range(STREAMS)]


async def bare_producer(bootstrap: str, topic: str, records: int, size: int) -> float:
    """Send ``records`` records of ``size`` bytes (key + value) to ``topic``; records/s."""
    producer = make_producer(KafkaSettings(bootstrap_servers=bootstrap), "bench-bare-producer")  # the relay's settings
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        hashing = DefaultPartitioner()
        keys = _keys()
        where = {key: hashing(key, partitions, partitions) for key in keys}
        value = b"x" * max(1, size - len(keys[0]))
        started = time.perf_counter()
        for first in range(0, records, CHUNK):
            batches: dict[int, list] = {}
            for n in range(first, min(first + CHUNK, records)):
                key = keys[n % STREAMS]
                queue = batches.setdefault(where[key], [producer.create_batch()])
                if queue[-1].append(timestamp=None, key=key, value=value) is None:
                    queue.append(producer.create_batch())
                    queue[-1].append(timestamp=None, key=key, value=value)
            order = sorted(((i, p, b) for p, queue in batches.items() for i, b in enumerate(queue)), key=lambda t: t[0])
            acks = [await producer.send_batch(batch, topic, partition=p) for _, p, batch in order]
            await asyncio.gather(*acks)
        return records / (time.perf_counter() - started)
    finally:
        await producer.stop()


def measure(bootstrap: str, topic: str, records: int, size: int) -> float:
    """``bare_producer`` in a process of its own (as the relay and ProducerPerformance run)."""
    argv = [sys.executable, "-m", "bench.producer_ceiling", "--bootstrap", bootstrap, "--topic", topic]
    argv += ["--records", str(records), "--size", str(size)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"bench.producer_ceiling failed: {(out.stderr or out.stdout).strip()[-300:]}")
    return float(orjson.loads(out.stdout.strip().splitlines()[-1])["records_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=700)
    args = parser.parse_args()
    rate = uvloop.run(bare_producer(args.bootstrap, args.topic, args.records, args.size))
    print(orjson.dumps({"records_per_second": rate}).decode())


if __name__ == "__main__":
    main()
