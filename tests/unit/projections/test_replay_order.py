"""The rebuild's reader keeps partitions in step by time, and always progresses."""

from collections import deque
from dataclasses import dataclass

from services.projections.adapters.replay import oldest as _oldest


@dataclass(frozen=True)
class Rec:
    offset: int
    timestamp: int


def held(*stamps: int) -> deque[Rec]:
    return deque(Rec(i, t) for i, t in enumerate(stamps))


def test_a_partition_ahead_waits_for_the_one_behind() -> None:
    facts, schedule = held(1, 2, 3), held(2, 5, 9)
    assert [r.timestamp for r in _oldest([facts, schedule], 100)] == [1, 2, 3, 2]
    assert [r.timestamp for r in schedule] == [5, 9]  # held back: newer than facts reached


def test_at_most_max_records_the_partition_with_the_oldest_record_first() -> None:
    a, b = held(2, 3, 7), held(1, 4, 6)
    assert [r.timestamp for r in _oldest([a, b], 3)] == [1, 4, 6]
    assert [r.timestamp for r in _oldest([a, b], 3)] == [2, 3, 7]


def test_progress_even_with_timestamps_out_of_order() -> None:
    a, b = held(5, 1), held(9)
    out = _oldest([a, b], 1)
    assert out and out[0].timestamp == 5
    while a or b:
        assert _oldest([a, b], 1)
