"""SQL of the four queries. The position an answer reports and the rows it returns must be
one snapshot: coverage, debtors and income read both in ONE statement (any connection, no
transaction); contracts takes the connection of a read-only REPEATABLE READ transaction
because it needs several statements.

Filters are added only when given (no ``$n IS NULL OR …``), so every plan can use the
index the filter needs. Values always travel as parameters.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple
from uuid import UUID

import asyncpg

from services.projections.adapters.store import income_cells
from services.projections.application.ports import ClientMark, PeriodFilter
from services.projections.domain.coverage import OwedPeriod, PeriodState
from shared.owed import not_void_sql

NOT_VOID = not_void_sql("p.starts_on", "c.terminated_on")
"""A period starting on or after its contract's termination date is void (``shared.owed``),
whether the termination has taken effect yet or is still ahead: it is in no answer."""


def paid_as_at(on: str, row: str = "p") -> str:
    """The paid amount of ``row`` (an alias with ``period_id`` and ``paid_amount``: a period, or
    its ``period_debts`` row) as at the day ``on`` (a parameter): what is paid now less the
    payments dated after it (docs/design.md §8; ``shared.owed.paid_as_at``). One probe of
    ``payments_period_idx``."""
    return (
        f"({row}.paid_amount - coalesce((SELECT sum(q.amount) FROM payments q WHERE q.period_id = "
        f"{row}.period_id AND q.paid_on > {on} AND NOT q.cancelled), 0))"
    )


def period_state(on: str | None) -> str:
    """The columns of a ``PeriodState``, its paid amount as at ``on`` (None: as of now)."""
    paid = "p.paid_amount" if on is None else paid_as_at(on)
    return f"""p.contract_id, c.number AS contract_number, p.period_id, p.starts_on, p.ends_on,
    p.amount, p.currency, p.payment_terms, {paid} AS paid_amount,
    c.terminated_on"""


PERIOD_STATE = period_state(None)

OWED_COLUMNS = (
    "client_id",
    "contract_id",
    "period_id",
    "starts_on",
    "ends_on",
    "payment_terms",
    "due_on",
    "amount_due",
    "currency",
    "days_overdue",
)
"""A debtors row after ``client_name``: the client, then an ``OwedPeriod``'s fields in its order."""


def owed_columns(on: str) -> str:
    """The columns of a period owed on the day ``on`` (a parameter), in ``OWED_COLUMNS`` order,
    all from ``d``, the period's ``period_debts`` row (migration 0011 gave it the period's own
    columns): ``due_on`` is ``shared.owed.due_on``, kept by the consumer; ``amount_due`` is the
    amount less what was paid as at ``on``. A period with nothing paid now had nothing paid then:
    its payments are not probed (most debts: unpaid). Every column is in
    ``period_debts_rows_idx``, so a page's rows are an index-only range per client."""
    return f"""d.client_id, d.contract_id, d.period_id, d.starts_on, d.ends_on, d.payment_terms, d.due_on,
    d.amount - CASE WHEN d.paid_amount = 0 THEN 0 ELSE {paid_as_at(on, "d")} END AS amount_due, d.currency,
    {on}::date - d.due_on AS days_overdue"""


STOPPED_COLUMNS = "stream_id, stream_version, event_type, reason"
"""What ``stopped_reason`` says of a stopped stream (``stopped_streams``, migration 0007)."""

COVERAGE_SQL = f"""
    SELECT cl.position, st.stream_id, st.stream_version, st.event_type, st.reason, {period_state("$2")}
    FROM clients cl
    LEFT JOIN LATERAL (SELECT {STOPPED_COLUMNS} FROM stopped_streams s
                       WHERE s.client_id = cl.client_id ORDER BY s.stream_id LIMIT 1) st ON true
    LEFT JOIN (periods p JOIN contracts c ON c.contract_id = p.contract_id)
           ON p.client_id = cl.client_id AND p.starts_on <= $2
          AND (p.ends_on >= $2
               OR p.period_id IN (SELECT d.period_id FROM period_debts d
                                  WHERE d.client_id = $1 AND d.due_on <= $2
                                    AND (d.settled_on IS NULL OR d.settled_on > $2)))
    WHERE cl.client_id = $1"""
"""The client's position, its first stopped stream if any (``client_stopped``) and the periods
coverage on D needs, in ONE statement — one round trip and, being one statement, one snapshot
(no transaction needed). No row: the client is unknown; one row with a NULL ``period_id``:
known, nothing that covers or is owed on D. The periods are those that may be active on D
(``starts_on <= D <= ends_on``) and those owed on D, which ``period_debts`` (kept with the read
model, migration 0008) names: a period owed on D was due by D and not settled by D (a period
paid on time is never there). The rest of a client's history — every past period paid — is
not read, nor is its paid amount as at D computed (``paid_as_at``: a payments probe per
period). A range scan of ``periods_client_idx (client_id, starts_on)``, one index-only range of
``period_debts_rows_idx``, a primary-key probe per contract; the stopped stream is a probe of
``stopped_streams_client_idx`` (nearly always empty). Order does not matter:
``domain.coverage.assess`` sorts."""


def to_period_state(r: asyncpg.Record) -> PeriodState:
    return PeriodState(
        r["contract_id"],
        r["contract_number"],
        r["period_id"],
        r["starts_on"],
        r["ends_on"],
        r["amount"],
        r["currency"],
        r["payment_terms"],
        r["paid_amount"],
        r["terminated_on"],
    )


def to_owed_period(r: asyncpg.Record) -> OwedPeriod:
    """A row of ``owed_periods`` as the domain's owed period."""
    return OwedPeriod(
        r["contract_id"],
        r["period_id"],
        r["starts_on"],
        r["ends_on"],
        r["payment_terms"],
        r["due_on"],
        r["amount_due"],
        r["currency"],
        r["days_overdue"],
    )


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


CLIENT_MARK_SQL = """SELECT position, events_position, schedule_position,
       EXISTS (SELECT 1 FROM parked_events WHERE client_id = $1 AND position <= $2) AS parked
FROM clients WHERE client_id = $1"""
"""How far a client's events are applied, and whether one up to ``$2`` waits parked (read at
every look of a ``min_position`` wait: ``parked_events_client_idx``, migration 0010)."""


async def client_mark(conn: asyncpg.Connection, client_id: UUID, up_to: int) -> ClientMark:
    row = await conn.fetchrow(CLIENT_MARK_SQL, client_id, up_to)
    if row is None:
        return ClientMark(None, None, None, False)
    return ClientMark(row["position"], row["events_position"], row["schedule_position"], row["parked"])


async def client_stopped(conn: asyncpg.Connection | asyncpg.Pool, client_id: UUID) -> str | None:
    row = await conn.fetchrow(
        f"SELECT {STOPPED_COLUMNS} FROM stopped_streams WHERE client_id = $1 ORDER BY stream_id LIMIT 1",
        client_id,
    )
    return None if row is None else stopped_reason(row)


def stopped_reason(row: asyncpg.Record) -> str | None:
    """Why a stream stopped, from a row with ``STOPPED_COLUMNS`` (None: no stream stopped)."""
    if row["stream_id"] is None:
        return None
    return (
        f"event {row['stream_version']} of stream {row['stream_id']} ({row['event_type'] or 'unreadable'}) "
        f"cannot be applied, so none after it is: {row['reason']}"
    )[:1000]


async def global_position(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT max(position) FROM clients")


async def consumed_offsets(conn: asyncpg.Connection) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumed_offsets")
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def coverage_periods(
    conn: asyncpg.Connection | asyncpg.Pool, client_id: UUID, on: date
) -> tuple[bool, int | None, list[PeriodState], str | None]:
    """(known, position, periods, why its events stopped being applied) of one client: see
    ``COVERAGE_SQL``."""
    rows = await conn.fetch(COVERAGE_SQL, client_id, on)
    if not rows:
        return False, None, [], None
    periods = [to_period_state(r) for r in rows if r["period_id"] is not None]
    return True, rows[0]["position"], periods, stopped_reason(rows[0])


def filter_sql(periods: PeriodFilter, param: _Params) -> list[str]:
    """The conditions on ``p`` that ``periods`` asks for."""
    out = []
    for value, cond in (
        (periods.starts_from, "p.starts_on >= "),
        (periods.starts_to, "p.starts_on <= "),
        (periods.ends_from, "p.ends_on >= "),
        (periods.ends_to, "p.ends_on <= "),
        (periods.payment_terms, "p.payment_terms = "),
    ):
        if value is not None:
            out.append(cond + param(value))
    if periods.paid is not None and periods.on is None:
        out.append(f"p.paid = {param(periods.paid)}")
    elif periods.paid is not None:
        # unpaid now means unpaid then; only a period paid now needs its later payments
        as_at = f"{paid_as_at(param(periods.on))} >= p.amount"
        out.append(f"(p.paid AND {as_at})" if periods.paid else f"(NOT p.paid OR NOT {as_at})")
    return out


def filter_columns(periods: PeriodFilter, param: _Params) -> str:
    """A matched period's columns, its paid amount and state as at ``periods.on``."""
    if periods.on is None:
        return "p.*"
    paid = paid_as_at(param(periods.on))
    return (
        f"p.period_id, p.contract_id, p.client_id, p.starts_on, p.ends_on, p.amount, "
        f"p.currency, p.payment_terms, p.remind_on, {paid} AS paid_amount, "
        f"{paid} >= p.amount AS paid, p.due_on, p.income_on"
    )


async def contracts_page(
    conn: asyncpg.Connection,
    *,
    client_id: UUID | None,
    status: str | None,
    periods: PeriodFilter,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Contracts (sorted by number, id) and, for those, the periods that match the filter."""
    param = _Params()
    where = []
    if client_id is not None:
        where.append(f"c.client_id = {param(client_id)}")
    if status is not None:
        where.append(f"c.status = {param(status)}")
    if periods.given:
        cond = " AND ".join(["p.contract_id = c.contract_id", NOT_VOID, *filter_sql(periods, param)])
        where.append(f"EXISTS (SELECT 1 FROM periods p WHERE {cond})")
    sql = (
        "SELECT contract_id, client_id, number, title, signed_on, status, terminated_on "
        "FROM contracts c"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY c.number, c.contract_id LIMIT {param(limit)} OFFSET {param(offset)}"
    )
    contracts = await conn.fetch(sql, *param.values)
    if not contracts:
        return [], []
    param = _Params()
    columns = filter_columns(periods, param)
    cond = " AND ".join(
        [
            f"p.contract_id = ANY({param([c['contract_id'] for c in contracts])}::uuid[])",
            NOT_VOID,
            *filter_sql(periods, param),
        ]
    )
    rows = await conn.fetch(
        f"SELECT {columns} FROM periods p JOIN contracts c ON c.contract_id = p.contract_id WHERE {cond} "
        "ORDER BY p.contract_id, p.starts_on, p.period_id",
        *param.values,
    )
    return contracts, rows


DEBTS_GATHER_BOUND = 2000
"""At most this many periods owed on D: gather their clients and sort them; more: walk clients
in the answer's order (the walk then finds a page after about page_size / share-owing
clients). Chosen on the synthetic 100 k-client set of docs/decisions/performance.md."""

DUE_COLUMN = {"prepaid": "prepaid_due", "postpaid": "postpaid_due"}
"""``debtor_clients``' earliest unpaid due day, per payment terms (migration 0012)."""

After = tuple[str | None, UUID]
"""A keyset cursor: the (name, client_id) of the last client of the page before."""


def _after_branches(after: After | None, param: _Params) -> list[tuple[str, str]]:
    """(condition, ORDER BY) per branch of clients after the cursor, in the answer's order
    (name NULLS LAST, client_id): one range of ``clients_name_idx`` each, so the walk starts at
    the cursor instead of filtering its way there."""
    if after is None:
        return [("true", "cl.name NULLS LAST, cl.client_id")]
    name, client_id = after
    if name is None:
        return [(f"cl.name IS NULL AND cl.client_id > {param(client_id)}", "cl.client_id")]
    return [
        (f"(cl.name, cl.client_id) > ({param(name)}, {param(client_id)})", "cl.name, cl.client_id"),
        ("cl.name IS NULL", "cl.client_id"),
    ]


async def owed_periods(
    conn: asyncpg.Connection,
    *,
    on: date,
    payment_terms: str | None,
    client_id: UUID | None,
    limit: int,
    offset: int,
    grace_days: int = 0,
    after: After | None = None,
    few: Owing | None = None,
    with_position: bool = False,
) -> list[asyncpg.Record]:
    """Periods overdue on ``on`` (owed since at least ``grace_days``), as at ``on``, of one page
    of debtor clients (by name, id), from ``period_debts`` (migration 0008): a period is owed
    on D iff ``due_on <= D - grace`` and it was not yet settled as at D, and not void.

    The page of clients is chosen first:

    * few periods owed on D (``few_owe``: a count, stopped at ``DEBTS_GATHER_BOUND``, of those
      unpaid now on ``period_debts_open_idx`` and those paid since on ``period_debts_owed_idx``):
      gather their clients, sort them, take the page;
    * many, of which few settled after D (every "today"): walk ``debtor_clients_name_idx
      (name, client_id)`` — only clients with a debt unpaid now (migration 0012) — in the
      answer's order, keeping those whose earliest unpaid debt is due by D (index-only, under a
      Limit: the walk stops at the page, no client probed), merged with the few clients of debts
      settled after D, gathered;
    * many of both (a day long ago): walk ``clients_name_idx`` in the answer's order and keep a
      client when ``period_debts_rows_idx`` has a debt of it owed on D (an index-only probe);
    * one client (``client_id``): its debts probed.

    ``after`` (a keyset cursor) starts the page after that client, at the cost of a first
    page; ``offset`` (the page number's) is for callers without one. Then the owed periods of
    those clients only, as ``client_name`` + ``OWED_COLUMNS`` (``owed_columns``: the amount due
    as at D, the days overdue), from the same index (no ``periods`` row read, migration 0011):
    ``period_debts`` holds no void period (the consumer refreshes a
    contract's periods when it is terminated), so no contract is read per row, and the rows are
    already the domain's answer (``test_query_plans``: every page is ``domain.coverage.owed``).

    ``few``: the caller's ``few_owe`` for these arguments (None: counted here). Either way the
    answer is the same; the counts only pick the cheaper way to it.

    ``with_position``: every row starts with ``position`` (the highest applied, or the
    client's), read in the same statement, so the position and the rows are one snapshot
    without a transaction; a page without debtors is one row of NULLs but for it.

    LIMIT and OFFSET are written into the text (ints, never user text): as parameters, a
    generic plan — which PostgreSQL may switch to after five executions of the cached
    statement — assumes a LIMIT of 10 % of the rows (docs/decisions/performance.md)."""
    if after is not None and offset:
        raise ValueError("a keyset page has no offset")
    param = _Params()
    day, due = param(on), param(on - timedelta(days=grace_days))
    terms = "" if payment_terms is None else f" AND d.payment_terms = {param(payment_terms)}"
    owed_on_d = f"d.due_on <= {due} AND (d.settled_on IS NULL OR d.settled_on > {day}){terms}"
    if client_id is None and few is None:
        few = await few_owe(conn, on, grace_days, payment_terms)
    client = None if client_id is None else param(client_id)
    branches = _after_branches(after, param)
    # each source: (FROM, the condition that keeps a client); OFFSET 0 keeps each lateral a
    # probe (of clients_pkey): flattened, the planner may hash the whole table instead
    gathered = "{0} o CROSS JOIN LATERAL (SELECT * FROM clients c1 WHERE c1.client_id = o.client_id OFFSET 0) cl"
    ctes: list[str] = []
    if client is not None:  # one client: its debts probed
        sources = [
            (
                "clients cl",
                f"cl.client_id = {client} AND EXISTS (SELECT 1 FROM period_debts d WHERE d.client_id = cl.client_id "
                f"AND {owed_on_d})",
            )
        ]
    elif few is not None and few.few:  # every debt owed on D, gathered
        ctes.append(
            f"owing AS MATERIALIZED (SELECT DISTINCT client_id FROM ({_owed_on(terms, due, day, 'd.client_id')}) o)"
        )
        sources = [(gathered.format("owing"), "true")]
    elif few is not None and few.few_later:  # the clients with a debt unpaid now and due + a few
        unpaid_due = (
            f"(cl.prepaid_due <= {due} OR cl.postpaid_due <= {due})"
            if payment_terms is None
            else f"cl.{DUE_COLUMN[payment_terms]} <= {due}"
        )
        later = _settled_later(terms, due, day, "d.client_id")
        ctes.append(f"later AS MATERIALIZED (SELECT DISTINCT client_id FROM ({later}) o)")
        sources = [("debtor_clients cl", unpaid_due), (gathered.format("later"), "true")]
    else:  # many debts settled after D too (a day long ago): every client walked, its debts probed
        sources = [
            (
                "clients cl",
                f"EXISTS (SELECT 1 FROM period_debts d WHERE d.client_id = cl.client_id AND {owed_on_d})",
            )
        ]
    head = f"WITH {', '.join(ctes)} " if ctes else ""
    parts = [(source, keep, cond, order) for source, keep in sources for cond, order in branches]
    if len(parts) == 1:
        [(source, keep, cond, order)] = parts
        chosen = (
            f"(SELECT cl.client_id, cl.name FROM {source} WHERE {keep} AND {cond} "
            f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)})"
        )
    else:  # each part's first offset + limit in order, merged (a client may be in two)
        page = " UNION ".join(
            f"(SELECT cl.client_id, cl.name FROM {source} WHERE {keep} AND {cond} "
            f"ORDER BY {order} LIMIT {int(limit) + int(offset)})"
            for source, keep, cond, order in parts
        )
        chosen = (
            f"(SELECT * FROM ({page}) b ORDER BY b.name NULLS LAST, b.client_id "
            f"LIMIT {int(limit)} OFFSET {int(offset)})"
        )
    rows = f"""
        SELECT cl.name AS client_name, o.*
        FROM {chosen} cl
        CROSS JOIN LATERAL (
            SELECT {owed_columns(day)}
            FROM period_debts d
            WHERE d.client_id = cl.client_id AND {owed_on_d} OFFSET 0) o"""
    if with_position:
        position = (
            "SELECT max(position) FROM clients"
            if client is None
            else f"SELECT position FROM clients WHERE client_id = {client}"
        )
        sql = f"""{head}
            SELECT pos.position, r.* FROM (SELECT ({position}) AS position) pos LEFT JOIN ({rows}) r ON true
            ORDER BY r.client_name NULLS LAST, r.client_id, r.currency, r.starts_on, r.period_id"""
    else:
        sql = f"""{head}{rows}
            ORDER BY cl.name NULLS LAST, cl.client_id, o.currency, o.starts_on, o.period_id"""
    return await conn.fetch(sql, *param.values)


class Owing(NamedTuple):
    """How many debts are owed on a day, as far as choosing a debtors plan needs to know."""

    few: bool
    """Fewer than ``DEBTS_GATHER_BOUND`` debts owed on D: gather their clients."""
    few_later: bool
    """(When not ``few``.) Fewer than ``LATER_GATHER_BOUND`` of them settled only after D:
    walk ``debtor_clients`` and gather those beside it (none at all for today)."""


LATER_GATHER_BOUND = 500
"""At most this many debts owed on D and settled after it: gathered beside the walk of
``debtor_clients``. More (a day long ago, when many paid late): every client is walked instead,
as a gather of them would read that many debts and a second walk would probe as many clients."""


async def few_owe(conn: asyncpg.Connection, on: date, grace_days: int, payment_terms: str | None) -> Owing:
    """Bounded counts of the debts owed on ``on`` (stopped at ``DEBTS_GATHER_BOUND``) and, only
    when that many are, of those of them settled after it (stopped at ``LATER_GATHER_BOUND``)."""
    terms = "" if payment_terms is None else " AND d.payment_terms = $3"
    args: list[object] = [on - timedelta(days=grace_days), on]
    if payment_terms is not None:
        args.append(payment_terms)
    # the CASE evaluates the second count only when its branch is taken
    counts = await conn.fetchrow(
        f"WITH o AS (SELECT count(*) AS n FROM ({_owed_on(terms)} LIMIT {DEBTS_GATHER_BOUND}) s) "
        f"SELECT o.n AS owed, CASE WHEN o.n >= {DEBTS_GATHER_BOUND} THEN "
        f"(SELECT count(*) FROM ({_settled_later(terms)} LIMIT {LATER_GATHER_BOUND}) s) END AS later FROM o",
        *args,
    )
    if counts["later"] is None:
        return Owing(few=True, few_later=True)
    return Owing(few=False, few_later=counts["later"] < LATER_GATHER_BOUND)


def _owed_on(more: str, due: str = "$1", day: str = "$2", column: str = "1") -> str:
    """``column`` of every debt owed on ``day`` (due by ``due``): those unpaid now on
    ``period_debts_open_idx``, a btree range the Append reads first and a Limit stops early, then
    those paid since (``_settled_later``)."""
    return (
        f"SELECT {column} FROM period_debts d WHERE d.settled_on IS NULL AND d.due_on <= {due}{more} "
        f"UNION ALL {_settled_later(more, due, day, column)}"
    )


def _settled_later(more: str, due: str = "$1", day: str = "$2", column: str = "1") -> str:
    """``column`` of every debt due by ``due`` and settled only after ``day``, on
    ``period_debts_owed_idx`` (a GiST on ``daterange(due_on, settled_on)``)."""
    return (
        f"SELECT {column} FROM period_debts d WHERE d.settled_on IS NOT NULL "
        f"AND daterange(d.due_on, d.settled_on) @> {due}::date AND d.settled_on > {day}{more}"
    )


def outstanding_paid_later(on: str, payments_where: str = "true") -> str:
    """Rows (month, currency, 0, Δoutstanding, 0) that turn income's outstanding (as of now) into
    outstanding as at ``on``: for each period with payments dated after ``on``, what those
    payments had not yet paid. ``payments_paid_on_idx``: a range of the payments dated after
    ``on`` (none for today, so the answer is the rollup alone)."""
    return f"""
        SELECT pi.month, pi.currency, 0 AS due,
               GREATEST(pi.due - (p.paid_amount - l.later), 0) - pi.outstanding AS outstanding,
               0 AS received
        FROM (SELECT period_id, sum(amount) AS later FROM payments
              WHERE paid_on > {on} AND NOT cancelled AND {payments_where} GROUP BY period_id) l
        JOIN period_income pi ON pi.period_id = l.period_id
        JOIN periods p ON p.period_id = l.period_id
        WHERE pi.month >= $1 AND pi.month < $2"""


INCOME_SQL = f"""
    SELECT (SELECT max(position) FROM clients) AS position, r.*
    FROM (SELECT) AS one LEFT JOIN (
        SELECT month, currency, due, outstanding, received FROM income_months
        WHERE month >= $1 AND month < $2
        UNION ALL {outstanding_paid_later("$3")}) r ON true"""
"""The rollup: at most (months × currencies) rows by primary key, whatever the data size; plus
the correction to outstanding as at $3."""
CLIENT_INCOME_SQL = f"""
    SELECT (SELECT position FROM clients WHERE client_id = $3) AS position, r.*
    FROM (SELECT) AS one LEFT JOIN (
        SELECT month, currency, due, outstanding, received FROM ({
    income_cells("client_id = $3 AND month >= $1 AND month < $2", "client_id = $3 AND month >= $1 AND month < $2")
}) cells
        UNION ALL {outstanding_paid_later("$4", "client_id = $3")}) r ON true"""
"""One client's own rows (``periods_client_idx``, ``payments_client_idx``): bounded by the
client, not by the data set, so no per-client rollup is kept."""


async def income(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    start: date,
    end: date,
    client_id: UUID | None,
    on: date,
) -> tuple[int | None, list[asyncpg.Record]]:
    """(position, cells): due, outstanding (as at ``on``: payments dated after it not counted)
    and received per month in ``[start, end)`` and currency; a (month, currency) may come in
    several rows, to be summed. One statement, so the position and the sums are one snapshot;
    the position comes with every row and with the one all-NULL row of an empty range."""
    if client_id is None:
        rows = await conn.fetch(INCOME_SQL, start, end, on)
    else:
        rows = await conn.fetch(CLIENT_INCOME_SQL, start, end, client_id, on)
    return rows[0]["position"], [r for r in rows if r["month"] is not None]


CLIENT_COLUMNS = "cl.client_id, cl.name, cl.manager_name, cl.manager_email"


async def clients_page(conn: asyncpg.Connection, *, text: str | None, limit: int, offset: int) -> list[asyncpg.Record]:
    """Clients by name (``clients_name_idx``): every one, or those whose name contains ``text``
    (any case) or that hold a contract numbered exactly ``text`` (``contracts_number_idx``).
    A name match is a scan of ``clients``: 100 k short rows, tens of milliseconds, for a
    person typing a search — the card itself reads by key."""
    param = _Params()
    where = "true"
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = (
            f"(cl.name ILIKE {param(pattern)} OR cl.client_id IN "
            f"(SELECT c.client_id FROM contracts c WHERE c.number = {param(text)}))"
        )
    return await conn.fetch(
        f"SELECT {CLIENT_COLUMNS} FROM clients cl WHERE cl.name IS NOT NULL AND {where} "
        f"ORDER BY cl.name, cl.client_id LIMIT {int(limit)} OFFSET {int(offset)}",
        *param.values,
    )


async def client(conn: asyncpg.Connection, client_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {CLIENT_COLUMNS}, cl.position FROM clients cl WHERE cl.client_id = $1", client_id
    )
