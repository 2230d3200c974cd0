"""A caller's own writes that commit with an append, sent in the append's own statement.

A command that also writes rows of its own (the tickets list's row, the scheduler's rows of a
contract, the payer directory) made its append a transaction of four round trips: ``BEGIN``,
the append, the rows, ``COMMIT``. A :class:`RowWrite` is such a write as SQL, so the PostgreSQL
store sends it in the append's statement instead — one round trip, one statement, autocommit —
when the append goes alone. In a group commit, or beside writes that are not SQL (the invoice
book's counters), it runs in the transaction after the events like any other
``in_transaction`` hook: it is one (calling it runs its statement on the transaction).

Each part is an ``INSERT``/``UPDATE``/``DELETE`` (no ``WITH`` of its own) whose parameters are
``$1``…``$n`` (its ``args``) and which reads ``appended``: a relation holding the position of
the append's last event (``appended.position``), one row, or none when the append is refused
(the stream moved on) — so a refused append writes no row either. That is why a part must read
it. Parameters the statement cannot type from its context (a ``SELECT`` list) carry casts.
Parts go in one statement, so they see the same snapshot: they must not touch the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.eventstore.ports import InTransaction, Transaction
from shared.eventstore.records import RecordedEvent

_PARAM = re.compile(r"\$(\d+)")

Part = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class RowWrite:
    parts: tuple[Part, ...]

    @classmethod
    def of(cls, sql: str, *args: Any) -> RowWrite:
        if "appended" not in sql:
            raise ValueError("a row write reads `appended` (so that a refused append writes nothing)")
        return cls(((sql, args),))

    def __add__(self, other: RowWrite) -> RowWrite:
        return RowWrite(self.parts + other.parts)

    @property
    def args(self) -> tuple[Any, ...]:
        return tuple(a for _, args in self.parts for a in args)

    @property
    def shape(self) -> tuple[tuple[str, int], ...]:
        """Each part's SQL and number of parameters (what the statement's text depends on)."""
        return tuple((sql, len(args)) for sql, args in self.parts)

    async def __call__(self, tx: Transaction, recorded: list[RecordedEvent]) -> None:
        """As an ``in_transaction`` hook: its statement on the open transaction, after the events."""
        await self.run(tx, recorded[-1].position)

    async def run(self, tx: Transaction, position: int) -> None:
        """Its statement on an open transaction, ``appended.position`` being ``position``."""
        await tx.execute(_after_events(self.shape), *self.args, position)


def together(*writes: InTransaction | None) -> InTransaction | None:
    """Several writes of one command as one: a single :class:`RowWrite` when all are (it still
    goes in the append's statement), else each in turn inside the append's transaction."""
    present = [w for w in writes if w is not None]
    if len(present) <= 1:
        return present[0] if present else None
    rows = [w for w in present if isinstance(w, RowWrite)]
    if len(rows) == len(present):
        return RowWrite(tuple(p for w in rows for p in w.parts))

    async def each(tx: Transaction, recorded: list[RecordedEvent]) -> None:
        for write in present:
            await write(tx, recorded)

    return each


async def run_each(tx: Transaction, writes: Sequence[tuple[InTransaction, list[RecordedEvent]]]) -> None:
    """Several commands' writes on one open transaction (a group commit's), each after its own
    recorded events: the :class:`RowWrite` s of one shape in one round trip (``executemany``),
    the others one by one. The commands are on different streams, so their writes are
    independent of each other's order."""
    same_shape: dict[tuple[tuple[str, int], ...], list[tuple[Any, ...]]] = {}
    for write, recorded in writes:
        if isinstance(write, RowWrite):
            same_shape.setdefault(write.shape, []).append((*write.args, recorded[-1].position))
        else:
            await write(tx, recorded)
    for shape, rows in same_shape.items():
        await tx.executemany(_after_events(shape), rows)


def _ctes(shape: Sequence[tuple[str, int]], offset: int) -> str:
    """The parts as ``w0 AS (…), w1 AS (…)``, their parameters numbered from ``offset`` + 1."""
    out = []
    for n, (sql, count) in enumerate(shape):
        out.append(f"w{n} AS ({_shifted(sql, offset)})")
        offset += count
    return ",\n".join(out)


def _shifted(sql: str, by: int) -> str:
    return _PARAM.sub(lambda m: f"${int(m.group(1)) + by}", sql)


@cache
def _after_events(shape: tuple[tuple[str, int], ...]) -> str:
    last = sum(count for _, count in shape) + 1
    return f"WITH appended AS (SELECT ${last}::bigint AS position),\n{_ctes(shape, 0)}\nSELECT 1"


@cache
def with_append(append: str, append_params: int, shape: tuple[tuple[str, int], ...]) -> str:
    """One statement: ``append`` (a ``SELECT`` of the store's append function with
    ``append_params`` parameters, answering position, version and time per event), then the
    parts, their parameters numbered after the append's. Answers what ``append`` answers."""
    return f"""WITH appended_rows AS MATERIALIZED ({append}),
appended AS (SELECT max(appended_position) AS position FROM appended_rows
             HAVING bool_and(appended_position IS NOT NULL)),
{_ctes(shape, append_params)}
SELECT appended_position, appended_version, appended_at FROM appended_rows"""
