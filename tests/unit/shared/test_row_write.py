"""``shared.eventstore.row_write``: a caller's rows in the append's own statement — how the parts
are numbered and combined (the statement itself runs in tests/integration/test_append_function.py)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.eventstore.row_write import RowWrite, run_each, together, with_append

A = "INSERT INTO a (x, y, at) SELECT $1::int, $2::text, appended.position FROM appended"
B = "DELETE FROM b WHERE id = $1 AND EXISTS (SELECT FROM appended)"


class Tx:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.many: list[tuple[str, list[tuple[Any, ...]]]] = []

    async def execute(self, sql: str, *args: Any) -> None:
        self.sent.append((sql, args))

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.many.append((sql, rows))


class Recorded:
    def __init__(self, position: int = 42) -> None:
        self.position = position


def test_a_part_that_does_not_read_appended_is_refused() -> None:
    """It would be written even when the append is refused."""
    with pytest.raises(ValueError, match="appended"):
        RowWrite.of("INSERT INTO a VALUES ($1)", 1)


def test_parts_are_numbered_after_the_append_and_after_each_other() -> None:
    write = RowWrite.of(A, 7, "seven") + RowWrite.of(B, 9)
    sql = with_append("SELECT appended_position, appended_version, appended_at FROM f($1, $2)", 2, write.shape)
    assert "w0 AS (INSERT INTO a (x, y, at) SELECT $3::int, $4::text, appended.position FROM appended)" in sql
    assert "w1 AS (DELETE FROM b WHERE id = $5 AND EXISTS (SELECT FROM appended))" in sql
    assert write.args == (7, "seven", 9)


async def test_as_a_hook_the_position_is_the_last_parameter() -> None:
    tx = Tx()
    await (RowWrite.of(A, 7, "seven") + RowWrite.of(B, 9))(tx, [Recorded()])  # type: ignore[list-item]  # only .position is read
    ((sql, args),) = tx.sent
    assert sql.startswith("WITH appended AS (SELECT $4::bigint AS position)")
    assert "SELECT $1::int, $2::text" in sql and "id = $3" in sql and args == (7, "seven", 9, 42)


async def test_together_keeps_row_writes_one_statement_and_runs_other_hooks_in_turn() -> None:
    assert together(None, None) is None
    one = RowWrite.of(A, 1, "x")
    assert together(None, one) is one
    both = together(one, RowWrite.of(B, 2))
    assert isinstance(both, RowWrite) and both.args == (1, "x", 2)

    ran: list[str] = []

    async def other(tx: Any, recorded: Any) -> None:
        ran.append("other")

    mixed = together(one, other)
    assert mixed is not None and not isinstance(mixed, RowWrite)
    tx = Tx()
    await mixed(tx, [Recorded()])  # type: ignore[list-item]  # only .position is read
    assert len(tx.sent) == 1 and ran == ["other"]


async def test_a_groups_row_writes_of_one_shape_go_in_one_round_trip_each_at_its_position() -> None:
    ran: list[int] = []

    async def other(tx: Any, recorded: Any) -> None:
        ran.append(recorded[-1].position)

    tx = Tx()
    writes = [
        (RowWrite.of(A, 1, "a"), [Recorded(10)]),
        (other, [Recorded(11)]),
        (RowWrite.of(A, 2, "b"), [Recorded(12)]),
        (RowWrite.of(B, 3), [Recorded(13)]),
    ]
    await run_each(tx, writes)  # type: ignore[arg-type]  # only .position is read
    assert ran == [11] and tx.sent == []
    assert [rows for _, rows in tx.many] == [[(1, "a", 10), (2, "b", 12)], [(3, 13)]]
