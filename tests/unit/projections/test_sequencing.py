"""Exactly-once, in-order decisions per stream (given last versions / parked, when a batch arrives)."""

from dataclasses import dataclass

from services.projections.domain.sequencing import plan


@dataclass(frozen=True)
class E:
    stream_id: str
    stream_version: int


def versions(items: list[E]) -> list[tuple[str, int]]:
    return [(i.stream_id, i.stream_version) for i in items]


def test_next_versions_apply_in_order() -> None:
    p = plan([E("a", 1), E("a", 2), E("b", 1)], {}, {})
    assert versions(p.apply) == [("a", 1), ("a", 2), ("b", 1)]
    assert p.versions == {"a": 2, "b": 1}
    assert p.skipped == 0 and not p.park and not p.unpark


def test_duplicates_and_redeliveries_are_skipped() -> None:
    p = plan([E("a", 3), E("a", 4), E("a", 4), E("a", 5)], {"a": 4}, {})
    assert versions(p.apply) == [("a", 5)]
    assert p.skipped == 3
    assert p.versions == {"a": 5}


def test_a_version_that_skips_ahead_is_parked_not_applied() -> None:
    p = plan([E("a", 3)], {"a": 1}, {})
    assert p.apply == [] and versions(p.park) == [("a", 3)]
    assert p.versions == {}


def test_parked_successors_apply_when_the_gap_fills() -> None:
    parked = {"a": {3: E("a", 3), 4: E("a", 4), 6: E("a", 6)}}
    p = plan([E("a", 2)], {"a": 1}, parked)
    assert versions(p.apply) == [("a", 2), ("a", 3), ("a", 4)]
    assert versions(p.unpark) == [("a", 3), ("a", 4)]
    assert p.versions == {"a": 4}  # 6 still waits for 5


def test_gap_filled_within_the_same_batch_needs_no_parked_row() -> None:
    p = plan([E("a", 2), E("a", 1)], {}, {})
    assert versions(p.apply) == [("a", 1), ("a", 2)]
    assert p.park == [] and p.unpark == []


def test_redelivered_parked_event_is_a_duplicate() -> None:
    p = plan([E("a", 3)], {"a": 1}, {"a": {3: E("a", 3)}})
    assert p.apply == [] and p.park == [] and p.skipped == 1


def test_parked_event_whose_predecessor_another_transaction_applied_is_healed() -> None:
    p = plan([E("a", 9)], {"a": 2}, {"a": {3: E("a", 3)}})
    assert versions(p.apply) == [("a", 3)]
    assert versions(p.unpark) == [("a", 3)]
    assert versions(p.park) == [("a", 9)]


def test_a_stopped_stream_moves_no_further_and_parks_what_comes() -> None:
    """Issue 15: stopped at v2 (an event that cannot be applied), v3 parks behind it; other
    streams go on."""
    p = plan([E("a", 3), E("b", 1)], {"a": 1}, {"a": {2: E("a", 2)}}, {"a": 2})
    assert versions(p.apply) == [("b", 1)]
    assert versions(p.park) == [("a", 3)]
    assert "a" not in p.versions


def test_a_stopped_stream_does_not_drain_its_parked_events_past_the_stop() -> None:
    parked = {"a": {3: E("a", 3), 4: E("a", 4)}}
    p = plan([E("a", 2)], {"a": 1}, parked, {"a": 4})
    assert versions(p.apply) == [("a", 2), ("a", 3)]  # up to the stop, not over it
    assert versions(p.unpark) == [("a", 3)] and p.versions == {"a": 3}
