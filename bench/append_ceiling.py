"""A ceiling for the write path in one file: append an event and its outbox row in one
transaction, publish the outbox to Kafka (acks=all, idempotent), delete what the broker
acknowledged — with plain asyncpg and aiokafka, no HTTP, no framework, no validation, no
domain. What Python on this machine does at best on Abonent's write → Kafka path, so the
write capacity reads as a share of it (issue 20: "side by side with a peer").

* ``WRITERS`` coroutines on one pool, each appending to a new stream per event: one statement
  (events row with its unique (stream, version) check + outbox row; autocommit, so one
  transaction and one round trip) — the same writes as the event store's append;
* one relay: the oldest outbox rows, one record batch per partition (key = stream), wait for
  every ack, delete them — the same as ``shared.outbox.relay``;
* events/s = events appended in ``seconds`` / (start → outbox drained).

    python -m bench.append_ceiling --dsn postgresql://… --bootstrap 127.0.0.1:9092 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg
import orjson
import uvloop
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.tools import create_topic, scratch_database
from shared.outbox.relay import make_producer
from shared.settings import KafkaSettings

WRITERS = 32
TOPIC = "bench.append.v1"
RELAY_BATCH = 2000
SCHEMA = """
    CREATE TABLE events (
        position bigserial PRIMARY KEY, stream_id text NOT NULL, stream_version int NOT NULL,
        event_type text NOT NULL, data jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), UNIQUE (stream_id, stream_version));
    CREATE TABLE outbox (id bigserial PRIMARY KEY, key text NOT NULL, payload bytea NOT NULL)"""
APPEND = """
    WITH e AS (INSERT INTO events (stream_id, stream_version, event_type, data)
               VALUES ($1, 1, 'PaymentRecorded', $2::jsonb) RETURNING position)
    INSERT INTO outbox (key, payload) SELECT $1, $3 FROM e"""
DATA = {"amount": "1.00", "currency": "RUB", "paid_on": "2026-11-30", "period_paid_amount": "1.00", "note": "x" * 200}


async def _writer(pool: asyncpg.Pool, n: int, until: float) -> int:
    data = orjson.dumps(DATA).decode()
    payload = orjson.dumps({"event_type": "PaymentRecorded", "data": DATA})
    done = 0
    while time.perf_counter() < until:
        await pool.execute(APPEND, f"w{n}-{done}", data, payload)
        done += 1
    return done


async def _relay(pool: asyncpg.Pool, producer: AIOKafkaProducer, writing: asyncio.Future[list[int]]) -> None:
    partitions = sorted(await producer.partitions_for(TOPIC))
    hashing = DefaultPartitioner()
    async with pool.acquire() as conn:
        while True:
            finished = writing.done()  # before the read: every append has committed
            rows = await conn.fetch("SELECT id, key, payload FROM outbox ORDER BY id LIMIT $1", RELAY_BATCH)
            if not rows:
                if finished:
                    return
                await asyncio.sleep(0.001)
                continue
            batches: dict[int, list] = {}
            for row in rows:
                partition = hashing(row["key"].encode(), partitions, partitions)
                queue = batches.setdefault(partition, [producer.create_batch()])
                if queue[-1].append(key=row["key"].encode(), value=row["payload"], timestamp=None) is None:
                    queue.append(producer.create_batch())
                    queue[-1].append(key=row["key"].encode(), value=row["payload"], timestamp=None)
            futures = [
                await producer.send_batch(batch, TOPIC, partition=partition)
                for partition, queue in batches.items()
                for batch in queue
            ]
            await asyncio.gather(*futures)
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])


async def append_and_publish(dsn: str, bootstrap: str, seconds: float, writers: int = WRITERS) -> float:
    """Events/s appended and published by the loop (a scratch database beside ``dsn``)."""
    url = await scratch_database(dsn, "bench_append")
    await create_topic(bootstrap, TOPIC)
    setup = await asyncpg.connect(url)
    try:
        await setup.execute(SCHEMA)
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(url, min_size=writers + 1, max_size=writers + 1)
    producer = make_producer(KafkaSettings(bootstrap_servers=bootstrap), "bench-append-ceiling")  # the relay's settings
    await producer.start()
    try:
        started = time.perf_counter()
        until = started + seconds
        writing = asyncio.ensure_future(asyncio.gather(*(_writer(pool, n, until) for n in range(writers))))
        await _relay(pool, producer, writing)
        drained = time.perf_counter()
        return sum(await writing) / (drained - started)
    finally:
        await producer.stop()
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="a PostgreSQL URL; the loop makes database bench_append beside it")
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", type=int, default=WRITERS)
    args = parser.parse_args()
    rate = uvloop.run(append_and_publish(args.dsn, args.bootstrap, args.seconds, args.writers))
    print(f"{rate:,.0f} events/s appended and published ({args.writers} writers, 1 relay, {args.seconds:g} s)")


if __name__ == "__main__":
    main()
