"""How the relay splits an outbox batch: partitions as Kafka's Java client picks them, id order
kept per partition, record batches split when full."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared.outbox.relay import group_by_partition, record_batches

HEADERS = {"event_type": "Happened", "content-type": "application/json"}


def row(id_: int, key: str, topic: str = "t", payload: bytes = b"{}") -> tuple:
    """An outbox row as the relay reads it: (id, topic, key, payload, headers)."""
    return (id_, topic, key, payload, HEADERS)


def test_keys_go_to_the_partitions_the_java_client_picks():
    # Kafka's own murmur2 vectors: Utils.toPositive(murmur2(key)) % 1000 in the Java client.
    expected = {"": 681, "a": 524, "ab": 434, "abc": 107, "123456789": 566}
    rows = [row(i, key) for i, key in enumerate(expected)]
    groups = group_by_partition(rows, {"t": list(range(1000))})
    assert {r[2]: partition for (_, partition), rs in groups.items() for r in rs} == expected


def test_rows_keep_id_order_within_each_partition_and_topic():
    rows = [row(i, f"client-{i % 7}", topic=f"t{i % 2}") for i in range(200)]
    groups = group_by_partition(rows, {"t0": list(range(3)), "t1": list(range(3))})
    assert sorted(r[0] for rs in groups.values() for r in rs) == list(range(200))
    for (topic, _), rs in groups.items():
        assert [r[0] for r in rs] == sorted(r[0] for r in rs)
        assert {r[1] for r in rs} == {topic}
    partition_of_key = {(r[1], r[2]): tp for tp, rs in groups.items() for r in rs}
    assert len(partition_of_key) == 14  # one destination per (topic, key)


async def test_a_full_record_batch_starts_another_in_order():
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_batch_size=1024)
    rows = [row(i, "client-1", payload=bytes([i]) * 300) for i in range(10)]
    batches = record_batches(producer, rows)
    assert len(batches) > 1
    assert sum(b.record_count() for b in batches) == 10
    assert all(b.size() <= 1024 for b in batches)


async def test_a_record_larger_than_a_batch_still_gets_one():
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_batch_size=1024)
    batches = record_batches(producer, [row(1, "k", payload=b"x" * 4096), row(2, "k")])
    assert [b.record_count() for b in batches] == [1, 1]
