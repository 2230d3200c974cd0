"""What a fetch applied, summed over its parts (``Projector.isolate`` applies one record a
transaction and reports the fetch as one result)."""

from __future__ import annotations

from services.projections.application.projector import BatchResult


def test_the_parts_of_a_fetch_add_up_and_keep_the_highest_marks() -> None:
    total = BatchResult(received=3, applied=1, reached={4: 10}, next_offsets={("t", 0): 5}, applied_types={"A": 1})
    total.add(
        BatchResult(
            received=1,
            applied=2,
            parked=1,
            dead_lettered=1,
            reached={4: 7, 9: 3},
            next_offsets={("t", 0): 6, ("t", 1): 2},
            applied_types={"A": 1, "B": 1},
        )
    )
    assert (total.received, total.applied, total.parked, total.dead_lettered) == (3, 3, 1, 1)
    assert total.reached == {4: 10, 9: 3}
    assert total.next_offsets == {("t", 0): 6, ("t", 1): 2}
    assert total.applied_types == {"A": 2, "B": 1}
