"""The application computes a state's pending time events once, and never answers for the wrong state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bench.stories import client_story
from services.contracts.application import pending as pending_module
from services.contracts.application.pending import PendingOfRecentStates
from services.contracts.domain.contract import ContractState
from services.contracts.domain.time_events import pending_time_events


@pytest.fixture(scope="module")
def states() -> list[ContractState]:
    """Contracts as the bench's stories leave them: periods paid, unpaid, reminded or not."""
    writes = [w for i in range(6) for w in client_story(7, i, [5, 3], date(2026, 12, 1))]
    return [w.contract for w in writes if w.contract is not None]


def test_it_answers_what_the_domain_says_for_each_state(states: list[ContractState]) -> None:
    pending = PendingOfRecentStates(grace_days=5, invoice_days=10)
    assert any(pending(s) for s in states)
    for s in states:
        assert pending(s) == tuple(pending_time_events(s, 5, 10))


def test_a_state_is_computed_once_while_it_is_recent(states: list[ContractState], monkeypatch) -> None:
    calls: list[ContractState] = []

    def counting(state, grace_days=0, invoice_days=None):
        calls.append(state)
        return pending_time_events(state, grace_days, invoice_days)

    monkeypatch.setattr(pending_module, "pending_time_events", counting)
    pending = PendingOfRecentStates(grace_days=0, invoice_days=None, recent=4)
    before, after = states[0], states[1]
    pending(before), pending(after), pending(after)  # a command: is there anything to write, then the write
    assert calls == [before, after]
    for s in states[2:7]:  # five newer states push the first two out
        pending(s)
    pending(before)
    assert calls[-1] is before and len(calls) == 8


def test_an_equal_but_distinct_state_is_not_taken_for_another(states: list[ContractState]) -> None:
    pending = PendingOfRecentStates(grace_days=0, invoice_days=None)
    first = states[0]
    assert pending(first) == tuple(pending_time_events(first))
    changed = replace(first, terminated_on=first.periods[0].starts_on)  # a new object, other answers
    assert pending(changed) == tuple(pending_time_events(changed))
    assert pending(changed) != pending(first)
