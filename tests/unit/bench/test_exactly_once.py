"""The scale-out check's bookkeeping: which answers count as accepted commands, and what counts
as out of key order on a topic (the I/O half runs in tests/e2e/test_scale_out.py)."""

from __future__ import annotations

from bench.exactly_once import Ledger, Verdict, out_of_order


def test_only_answers_that_wrote_something_are_accepted_commands() -> None:
    ledger = Ledger(prefix="scale-t")
    first, second, third = ledger.new_id(), ledger.new_id(), ledger.new_id()
    assert first.startswith("scale-t-") and len({first, second, third}) == 3

    ledger.record("contracts", first, {"id": "c", "position": 41})
    ledger.record("contracts", second, {"position": None})  # nothing changed: nothing to find
    ledger.record("tickets", third, [{"position": 7}])  # not a command's answer

    assert ledger.accepted == {first: ("contracts", 41)}


def test_a_key_going_back_in_position_on_its_topic_is_out_of_order() -> None:
    on_kafka = {
        "contracts.events.v1": [("e1", "client-a", 10), ("e2", "client-b", 5), ("e3", "client-a", 12)],
        "contracts.schedule.v1": [("e4", "client-a", 11), ("e5", "client-a", 9)],
    }
    # each topic on its own: e4 (11) after e3 (12) is on another topic, so not a difference
    assert out_of_order(on_kafka, ["contracts.events.v1", "contracts.schedule.v1"]) == ["e5"]
    assert out_of_order(on_kafka, ["tickets.events.v1"]) == []


def test_the_verdict_counts_differences_and_keeps_a_few_examples() -> None:
    verdict = Verdict()
    verdict.add("contracts events on Kafka more than once", ["a", "b", "c", "d"])
    verdict.add("contracts events missing on Kafka", [])

    assert verdict.total == 4
    assert verdict.differences == {
        "contracts events on Kafka more than once": 4,
        "contracts events missing on Kafka": 0,
    }
    assert len(verdict.examples) == 3 and verdict.examples[0].endswith(": a")
