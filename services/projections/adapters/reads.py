"""SQL of the four queries. The position an answer reports and the rows it returns must be
one snapshot: coverage and income read both in ONE statement (any connection, no
transaction); contracts and debtors take the connection of a read-only REPEATABLE READ
transaction because they need several statements.

Filters are added only when given (no ``$n IS NULL OR …``), so every plan can use the
index the filter needs. Values always travel as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from services.projections.adapters.store import income_cells
from services.projections.domain.coverage import PeriodState

# A period starting on or after its contract's termination date is void (shared.owed.is_void),
# whether the termination has taken effect yet or is still ahead: it is in no answer.
NOT_VOID = "(c.terminated_on IS NULL OR p.starts_on < c.terminated_on)"
PERIOD_STATE = """p.contract_id, c.number AS contract_number, p.period_id, p.starts_on, p.ends_on,
    p.amount, p.currency, p.payment_terms, p.paid_amount, c.terminated_on"""

COVERAGE_SQL = f"""
    SELECT cl.position, {PERIOD_STATE}
    FROM clients cl
    LEFT JOIN (periods p JOIN contracts c ON c.contract_id = p.contract_id)
           ON p.client_id = cl.client_id AND p.starts_on <= $2
    WHERE cl.client_id = $1"""
"""The client's position and its periods in ONE statement — one round trip and, being one
statement, one snapshot (no transaction needed). No row: the client is unknown; one row with
a NULL ``period_id``: known, no periods. Periods starting after D can neither cover nor be
owed on D: a range scan of ``periods_client_idx (client_id, starts_on)`` plus a primary-key
probe per contract. Order does not matter: ``domain.coverage.assess`` sorts."""


def period_state(r: asyncpg.Record) -> PeriodState:
    return PeriodState(r["contract_id"], r["contract_number"], r["period_id"], r["starts_on"],
                       r["ends_on"], r["amount"], r["currency"], r["payment_terms"],
                       r["paid_amount"], r["terminated_on"])


class _Params:
    def __init__(self) -> None:
        self.values: list[object] = []

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


async def client_position(conn: asyncpg.Connection, client_id: UUID) -> tuple[bool, int | None]:
    """(known, position): whether any event of the client was applied, and the highest position."""
    row = await conn.fetchrow("SELECT position FROM clients WHERE client_id = $1", client_id)
    return (row is not None, row["position"] if row is not None else None)


async def global_position(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT max(position) FROM clients")


async def consumed_offsets(conn: asyncpg.Connection) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumed_offsets")
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def coverage_periods(conn: asyncpg.Connection | asyncpg.Pool, client_id: UUID,
                           on: date) -> tuple[bool, int | None, list[PeriodState]]:
    """(known, position, periods) of one client: see ``COVERAGE_SQL``."""
    rows = await conn.fetch(COVERAGE_SQL, client_id, on)
    if not rows:
        return False, None, []
    periods = [period_state(r) for r in rows if r["period_id"] is not None]
    return True, rows[0]["position"], periods


@dataclass(frozen=True)
class PeriodFilter:
    starts_from: date | None = None
    starts_to: date | None = None
    ends_from: date | None = None
    ends_to: date | None = None
    paid: bool | None = None
    payment_terms: str | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in self.__dict__.values())

    def sql(self, param: _Params) -> list[str]:
        out = []
        for value, cond in ((self.starts_from, "p.starts_on >= "), (self.starts_to, "p.starts_on <= "),
                            (self.ends_from, "p.ends_on >= "), (self.ends_to, "p.ends_on <= "),
                            (self.paid, "p.paid = "), (self.payment_terms, "p.payment_terms = ")):
            if value is not None:
                out.append(cond + param(value))
        return out


async def contracts_page(
    conn: asyncpg.Connection, *, client_id: UUID | None, status: str | None, periods: PeriodFilter,
    limit: int, offset: int,
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Contracts (sorted by number, id) and, for those, the periods that match the filter."""
    param = _Params()
    where = []
    if client_id is not None:
        where.append(f"c.client_id = {param(client_id)}")
    if status is not None:
        where.append(f"c.status = {param(status)}")
    if periods.given:
        cond = " AND ".join(["p.contract_id = c.contract_id", NOT_VOID, *periods.sql(param)])
        where.append(f"EXISTS (SELECT 1 FROM periods p WHERE {cond})")
    sql = ("SELECT contract_id, client_id, number, title, signed_on, status, terminated_on "
           "FROM contracts c" + (" WHERE " + " AND ".join(where) if where else "") +
           f" ORDER BY c.number, c.contract_id LIMIT {param(limit)} OFFSET {param(offset)}")
    contracts = await conn.fetch(sql, *param.values)
    if not contracts:
        return [], []
    param = _Params()
    cond = " AND ".join([f"p.contract_id = ANY({param([c['contract_id'] for c in contracts])}::uuid[])",
                         NOT_VOID, *periods.sql(param)])
    rows = await conn.fetch(
        f"SELECT p.* FROM periods p JOIN contracts c ON c.contract_id = p.contract_id WHERE {cond} "
        "ORDER BY p.contract_id, p.starts_on, p.period_id", *param.values)
    return contracts, rows


async def owed_periods(
    conn: asyncpg.Connection, *, on: date, payment_terms: str | None, client_id: UUID | None,
    limit: int, offset: int,
) -> list[asyncpg.Record]:
    """Periods owed on ``on`` of one page of debtor clients (by name, id).

    The page is chosen first, by walking ``clients`` in the answer's order on
    ``clients_name_idx (name, client_id)`` and keeping a client when it owes something: an
    EXISTS probe of ``periods_client_owed_idx (client_id, due_on) WHERE NOT paid`` (a
    nested-loop semi-join under a Limit). A first page reads about page_size / (share of
    clients owing) clients, whatever the number of owed periods in the database. Then the
    owed periods of those clients only, through the same index. What "owed on D" means is
    written once (``owed``) and used by both.

    LIMIT and OFFSET are written into the text (ints, never user text): as parameters, a
    generic plan — which PostgreSQL may switch to after five executions of the cached
    statement — assumes a LIMIT of 10 % of the rows, so it fetches the page's periods by
    hashing every owed period (80 ms at DESIGN scale instead of 2-4 ms)."""
    param = _Params()
    owes = ["p.client_id = cl.client_id", "NOT p.paid", f"p.due_on <= {param(on)}", NOT_VOID]
    if payment_terms is not None:
        owes.append(f"p.payment_terms = {param(payment_terms)}")
    clients = f"cl.client_id = {param(client_id)}" if client_id is not None else "true"
    owed = f"FROM periods p JOIN contracts c ON c.contract_id = p.contract_id WHERE {' AND '.join(owes)}"
    sql = f"""
        SELECT cl.name AS client_name, o.*
        FROM (SELECT cl.client_id, cl.name FROM clients cl
              WHERE {clients} AND EXISTS (SELECT 1 {owed})
              ORDER BY cl.name NULLS LAST, cl.client_id
              LIMIT {int(limit)} OFFSET {int(offset)}) cl
        CROSS JOIN LATERAL (SELECT p.client_id, {PERIOD_STATE} {owed}) o
        ORDER BY cl.name NULLS LAST, cl.client_id, o.currency, o.starts_on, o.period_id"""
    return await conn.fetch(sql, *param.values)


INCOME_SQL = """
    SELECT (SELECT max(position) FROM clients) AS position, r.*
    FROM (SELECT) AS one LEFT JOIN (
        SELECT month, currency, due, outstanding, received FROM income_months
        WHERE month >= $1 AND month < $2) r ON true"""
"""The rollup: at most (months × currencies) rows by primary key, whatever the data size."""
CLIENT_INCOME_SQL = f"""
    SELECT (SELECT position FROM clients WHERE client_id = $3) AS position, r.*
    FROM (SELECT) AS one LEFT JOIN ({income_cells(
        "client_id = $3 AND month >= $1 AND month < $2",
        "client_id = $3 AND month >= $1 AND month < $2")}) r ON true"""
"""One client's own rows (``periods_client_idx``, ``payments_client_idx``): bounded by the
client, not by the data set, so no per-client rollup is kept."""


async def income(
    conn: asyncpg.Connection | asyncpg.Pool, *, start: date, end: date, client_id: UUID | None,
) -> tuple[int | None, list[asyncpg.Record]]:
    """(position, cells): due, outstanding (as of now) and received per month in ``[start,
    end)`` and currency. One statement, so the position and the sums are one snapshot; the
    position comes with every row and with the one all-NULL row of an empty range."""
    if client_id is None:
        rows = await conn.fetch(INCOME_SQL, start, end)
    else:
        rows = await conn.fetch(CLIENT_INCOME_SQL, start, end, client_id)
    return rows[0]["position"], [r for r in rows if r["month"] is not None]
