"""A contract state's pending time events, computed once per state a command passes through.

A contract command asks for them up to three times: the state it started from and the state
it ends in (``writes``: is there anything for the scheduler's rows?), then the end state
again inside the append's transaction (the rows to write). At ~7 periods a contract that is
a fair share of the command's CPU (the domain walks every period, formats every key). States
are immutable and each command's states are distinct objects, so the answer is kept by
identity for the last few states — the command's end state until its transaction has run, and
the state a cached aggregate starts the next command from.
"""

from __future__ import annotations

from collections import OrderedDict

from services.contracts.domain.contract import ContractState
from services.contracts.domain.time_events import TimeEventDue, pending_time_events

RECENT = 128
"""States remembered: more than the commands in flight at once (32 clients, group commit)."""


class PendingOfRecentStates:
    def __init__(self, grace_days: int, invoice_days: int | None, recent: int = RECENT) -> None:
        self.grace_days = grace_days
        self.invoice_days = invoice_days
        self._recent = recent
        self._by_id: OrderedDict[int, tuple[ContractState, tuple[TimeEventDue, ...]]] = OrderedDict()

    def __call__(self, state: ContractState) -> tuple[TimeEventDue, ...]:
        key = id(state)
        hit = self._by_id.get(key)
        if hit is not None and hit[0] is state:  # the state is held, so its id was not reused
            self._by_id.move_to_end(key)
            return hit[1]
        due = tuple(pending_time_events(state, self.grace_days, self.invoice_days))
        self._by_id[key] = (state, due)
        if len(self._by_id) > self._recent:
            self._by_id.popitem(last=False)
        return due
