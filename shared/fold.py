"""The one fold: an aggregate's state is its events folded by its ``evolve``.

``evolve(state, event) -> state`` is pure (no I/O, no clock), so replaying a stream always
gives the same state. A stream starts from ``initial`` — ``None`` for the aggregates here,
"no such client / contract / ticket yet".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

S = TypeVar("S")
E = TypeVar("E")


def fold(evolve: Callable[[S, E], S], events: Iterable[E], initial: S) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
