"""How a rebuild's bulk replay is split over worker processes: by partition number, every
topic's partition p in one slice, so each client's streams are replayed by one worker."""

from __future__ import annotations

from services.projections.application.rebuild import partition_slices

TOPICS = ("contracts.events.v1", "contracts.schedule.v1")


def limits(partitions: int, topics: tuple[str, ...] = TOPICS) -> dict[tuple[str, int], int]:
    return {(t, p): 100 + p for t in topics for p in range(partitions)}


def test_every_topics_partition_p_goes_to_the_same_slice_and_nothing_is_lost() -> None:
    whole = limits(12)
    slices = partition_slices(whole, 2)
    assert len(slices) == 2
    merged = {k: v for s in slices for k, v in s.items()}
    assert merged == whole and sum(len(s) for s in slices) == len(whole)
    for s in slices:
        numbers = {p for _, p in s}
        assert s == {(t, p): whole[(t, p)] for t in TOPICS for p in numbers}


def test_one_worker_or_more_workers_than_partitions() -> None:
    assert partition_slices(limits(12), 1) == [limits(12)]
    assert partition_slices(limits(12), 0) == [limits(12)]
    many = partition_slices(limits(12), 20)
    assert len(many) == 12 and all(len(s) == 2 for s in many)


def test_topics_of_different_partition_counts_are_not_split() -> None:
    uneven = {**limits(12, TOPICS[:1]), **limits(6, TOPICS[1:])}
    assert partition_slices(uneven, 2) == [uneven]
