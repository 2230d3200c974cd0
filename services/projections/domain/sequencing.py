"""Exactly-once, in-order application of an at-least-once feed, decided per stream.

For every stream the read model keeps the last applied ``stream_version``. An incoming
event with version

* ``<= last``      is a duplicate or a redelivery: **skipped**;
* ``== last + 1``  is the next one: **applied**, and then any parked successors
                   (``last + 2``, ``last + 3``, …) are applied right after it;
* ``> last + 1``   skips ahead (an earlier event is missing — e.g. it went to the dead-letter
                   topic): it is **parked**, never applied out of order. It is applied as soon
                   as the gap is filled, in the same transaction that fills it.

A contract's stream is published on TWO topics: business facts on ``contracts.events.v1``,
time events on ``contracts.schedule.v1``. Both are keyed by client id, so each topic keeps a
stream's events in order, but the two topics interleave freely: an event parked for a few
milliseconds until its predecessor arrives on the other topic is normal. An event that stays
parked means a lost or dead-lettered predecessor — an alarm for operators (metric
``projections_parked_events``, ``/health/ready``).

A **stopped** stream (``blocked``: its first version that cannot be applied — an unknown event
type, an event the fold or the database refuses) moves no further: that event and everything
after it park until the stop is lifted (a fix deployed, or the event re-published).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Versioned(Protocol):
    @property
    def stream_id(self) -> str: ...

    @property
    def stream_version(self) -> int: ...


T = TypeVar("T", bound=Versioned)


@dataclass
class Plan(Generic[T]):
    apply: list[T] = field(default_factory=list)
    """What to apply, in this order."""
    park: list[T] = field(default_factory=list)
    """Newly parked (insert into the parked table)."""
    unpark: list[T] = field(default_factory=list)
    """Previously parked and now applied (delete from the parked table)."""
    skipped: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    """New last applied version of every stream that moved."""


def plan(
    incoming: Iterable[T],
    last_versions: Mapping[str, int],
    parked: Mapping[str, Mapping[int, T]],
    blocked: Mapping[str, int] | None = None,
) -> Plan[T]:
    """``blocked``: stream → the version it is stopped at (never applied, nor anything after)."""
    stops = blocked or {}
    out: Plan[T] = Plan()
    last = dict(last_versions)
    waiting: dict[str, dict[int, T]] = {s: dict(v) for s, v in parked.items()}
    parked_now: dict[tuple[str, int], T] = {}

    def drain(stream: str, current: int) -> int:
        successors = waiting.get(stream, {})
        stop = stops.get(stream)
        while current + 1 in successors and (stop is None or current + 1 < stop):
            current += 1
            follower = successors.pop(current)
            out.apply.append(follower)
            if parked_now.pop((stream, current), None) is None:
                out.unpark.append(follower)
        return current

    # A parked event whose predecessor is already applied (by another transaction) goes now.
    for stream in list(waiting):
        current = last.get(stream, 0)
        if current + 1 in waiting[stream] and (moved := drain(stream, current)) > current:
            last[stream] = out.versions[stream] = moved

    for item in incoming:
        stream, version = item.stream_id, item.stream_version
        current = last.get(stream, 0)
        if version <= current or version in waiting.get(stream, {}):
            out.skipped += 1
            continue
        if version > current + 1 or version >= stops.get(stream, version + 1):
            waiting.setdefault(stream, {})[version] = item
            parked_now[(stream, version)] = item
            continue
        out.apply.append(item)
        last[stream] = out.versions[stream] = drain(stream, version)

    out.park = list(parked_now.values())
    return out
