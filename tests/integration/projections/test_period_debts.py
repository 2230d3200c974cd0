"""Issue 20: debtors from ``period_debts`` answer what the released walk (0003/0004) answered.

A varied data set — names shared and missing, prepaid and postpaid, two currencies, periods
unpaid, paid early, on the day, late, in parts, with a cancelled part, contracts terminated
before and inside their periods, a period removed, a payment dated before an earlier-recorded
one — is written through the live consumer's own ``ReadModelStore.save`` in batches, so
``period_debts`` is kept the way production keeps it. Then:

* the kept tables (``period_debts``, ``debtor_clients``) equal a fill of them from the tables
  (``fill_period_debts``, the rebuild's);
* for dates across the whole history, each payment-terms filter and a grace, every page the
  new query answers — gathering or walking, by OFFSET or by an ``after`` cursor chain — is
  the released query's page, row for row (its due day, days overdue and amount due as
  ``shared.owed`` computes them from the released row).

Real PostgreSQL (a scratch schema made by the live DDL function)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from bench.debtors_scale import released_owed_periods
from services.projections.adapters import reads
from services.projections.adapters.store import ReadModelStore
from services.projections.domain.fold import WorkingSet
from services.projections.domain.rows import ClientRow, ContractRow, PaymentRow, PeriodRow
from shared import owed as owing

CLIENTS = 160
DAYS = [date(2023, 12, 20) + timedelta(days=n) for n in range(0, 1200, 59)]


class History:
    """A varied history, each batch saved as the live consumer saves one (its own transaction)."""

    def __init__(self, conn: asyncpg.Connection, seed: int) -> None:
        self.conn, self.store = conn, ReadModelStore()
        self.rnd = random.Random(seed)
        self.ws = WorkingSet()

    async def _save(self, b: WorkingSet) -> None:
        async with self.conn.transaction():
            await self.store.save(self.conn, b)

    async def contracts(self) -> None:
        rnd = self.rnd
        first = WorkingSet()
        for i in range(CLIENTS):
            name = None if i % 41 == 0 else ("Same name" if i % 13 == 0 else f"Client {rnd.randrange(10_000):04d}")
            client = ClientRow(uuid4(), name)
            first.clients[client.client_id] = client
            for k in range(rnd.randint(1, 3)):
                start = date(2024, 1, 1) + timedelta(days=rnd.randrange(540))
                contract = ContractRow(uuid4(), client.client_id, f"N-{i}-{k}", "t", start)
                first.contracts[contract.contract_id] = contract
                months = rnd.choice((1, 1, 3))
                terms = rnd.choice(("prepaid", "prepaid", "postpaid"))
                currency = "EUR" if rnd.random() < 0.1 else "RUB"
                for _ in range(rnd.randint(3, 9)):
                    end = start + timedelta(days=30 * months - 1)
                    amount = Decimal(rnd.randrange(10_000, 500_000)) / 100
                    period = PeriodRow(
                        uuid4(), contract.contract_id, client.client_id, start, end, amount, currency, terms
                    )
                    first.periods[period.period_id] = period
                    start = end + timedelta(days=1)
        for table in ("clients", "contracts", "periods"):
            getattr(first, f"dirty_{table}").update(getattr(first, table))
        self.ws = first
        await self._save(first)

    def _batch(self) -> WorkingSet:
        return WorkingSet(self.ws.clients, self.ws.contracts, self.ws.periods, self.ws.payments)

    def _pay(self, b: WorkingSet, period: PeriodRow, amount: Decimal, paid_on: date) -> PaymentRow:
        payment = PaymentRow(
            uuid4(), period.period_id, period.contract_id, period.client_id, amount, period.currency, paid_on
        )
        b.payments[payment.payment_id] = payment
        b.dirty_payments.add(payment.payment_id)
        period.paid_amount += amount
        b.dirty_periods.add(period.period_id)
        return payment

    async def payments(self) -> None:
        rnd = self.rnd
        periods = list(self.ws.periods.values())
        rnd.shuffle(periods)
        for chunk in range(0, len(periods), 150):
            b = self._batch()
            for p in periods[chunk : chunk + 150]:
                due = p.starts_on if p.payment_terms == "prepaid" else p.ends_on + timedelta(days=1)
                kind = rnd.random()
                if kind < 0.2:
                    continue  # unpaid
                if kind < 0.5:  # on time: before or on the day it is owed
                    self._pay(b, p, p.amount, due - timedelta(days=rnd.randrange(10)))
                elif kind < 0.75:  # late
                    self._pay(b, p, p.amount, due + timedelta(days=rnd.randrange(1, 120)))
                elif kind < 0.85:  # a part only, early or late
                    self._pay(
                        b, p, (p.amount / 2).quantize(Decimal("0.01")), due + timedelta(days=rnd.randrange(-5, 60))
                    )
                else:  # two parts; the second dated BEFORE the first (recorded later, paid earlier)
                    half = (p.amount / 2).quantize(Decimal("0.01"))
                    later = due + timedelta(days=rnd.randrange(0, 90))
                    self._pay(b, p, half, later)
                    self._pay(b, p, p.amount - half, later - timedelta(days=rnd.randrange(0, 30)))
            await self._save(b)

    async def corrections(self) -> None:
        rnd = self.rnd
        b = self._batch()
        for payment in rnd.sample(list(self.ws.payments.values()), 40):  # cancelled payments
            payment.cancelled = True
            b.dirty_payments.add(payment.payment_id)
            period = self.ws.periods[payment.period_id]
            period.paid_amount -= payment.amount
            b.dirty_periods.add(period.period_id)
        await self._save(b)
        b = self._batch()
        for contract in rnd.sample(list(self.ws.contracts.values()), 25):  # terminations, some mid-period
            assert contract.signed_on is not None
            contract.terminated_on = contract.signed_on + timedelta(days=rnd.randrange(0, 300))
            b.dirty_contracts.add(contract.contract_id)
        await self._save(b)
        b = self._batch()
        for period in rnd.sample(list(self.ws.periods.values()), 5):  # periods removed
            del self.ws.periods[period.period_id]
            b.removed_periods.add(period.period_id)
        for client in rnd.sample(list(self.ws.clients.values()), 10):  # renamed
            client.name = f"Renamed {rnd.randrange(1000)}"
            b.dirty_clients.add(client.client_id)
        await self._save(b)


@pytest.fixture(scope="module")
async def kept(projections_dsn):
    pg_schema = f"debts_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(projections_dsn)
    await conn.execute("SELECT projections_meta.create_read_model($1)", pg_schema)
    await conn.execute(f"SET search_path TO {pg_schema}")
    history = History(conn, seed=20)
    await history.contracts()
    await history.payments()
    await history.corrections()
    await conn.execute("ANALYZE")
    yield conn
    await conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
    await conn.close()


async def test_the_kept_table_is_what_a_fill_makes(kept) -> None:
    conn = kept
    rows = await conn.fetchval("SELECT count(*) FROM period_debts")
    assert rows > 100, rows  # a history with debts in it
    debtors = await conn.fetchval("SELECT count(*) FROM debtor_clients")
    assert debtors > 10, debtors
    for kept_table, filled in (("period_debts", "period_debt_rows"), ("debtor_clients", "debtor_client_rows")):
        for a, b in ((kept_table, filled), (filled, kept_table)):
            differ = await conn.fetch(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}")
            assert differ == [], (a, b, differ[:3])


def _plain(rows: list[asyncpg.Record]) -> list[dict]:
    return [dict(r) for r in rows]


def _released(rows: list[asyncpg.Record], on: date) -> list[dict]:
    """The released query's rows (a ``PeriodState`` each) in the shape ``owed_periods`` answers:
    the due day and days overdue by ``shared.owed``, the amount due what is left as at ``on``."""
    out = []
    for r in rows:
        due = owing.due_on(r["payment_terms"], r["starts_on"], r["ends_on"])
        out.append(
            {
                "client_name": r["client_name"],
                "client_id": r["client_id"],
                "contract_id": r["contract_id"],
                "period_id": r["period_id"],
                "starts_on": r["starts_on"],
                "ends_on": r["ends_on"],
                "payment_terms": r["payment_terms"],
                "due_on": due,
                "amount_due": r["amount"] - r["paid_amount"],
                "currency": r["currency"],
                "days_overdue": owing.days_overdue(due, on),
            }
        )
    return out


async def _keyset_pages(conn, *, limit: int, **kwargs: Any) -> list[list[dict]]:
    """Every page of ``limit`` clients through ``after`` cursors, as the HTTP layer chains them."""
    pages: list[list[dict]] = []
    after: tuple[str | None, UUID] | None = None
    while True:
        rows = _plain(await reads.owed_periods(conn, limit=limit + 1, offset=0, after=after, **kwargs))
        clients = list(dict.fromkeys((r["client_name"], r["client_id"]) for r in rows))
        shown = set(clients[:limit])
        pages.append([r for r in rows if (r["client_name"], r["client_id"]) in shown])
        if len(clients) <= limit:
            return pages
        after = clients[limit - 1]


PLANS = {  # every way to a page: each must be the released answer
    "gather": reads.Owing(few=True, few_later=True),
    "debtors walked, settled later gathered": reads.Owing(few=False, few_later=True),
    "every client walked": reads.Owing(few=False, few_later=False),
    "counted": None,
}


@pytest.mark.parametrize("plan", list(PLANS))
async def test_every_page_is_the_released_answer(kept, plan) -> None:
    conn = kept
    compared = owing_days = 0
    for n, on in enumerate(DAYS):
        terms = (None, "prepaid", "postpaid")[n % 3]
        grace = 7 if n % 4 == 3 else 0
        kwargs: dict[str, Any] = dict(on=on, payment_terms=terms, client_id=None, grace_days=grace, few=PLANS[plan])
        whole = _released(
            await released_owed_periods(conn, on=on, payment_terms=terms, limit=10_000, offset=0, grace_days=grace), on
        )
        owing_days += bool(whole)
        for offset in (0, 17, 34):
            old = _released(
                await released_owed_periods(
                    conn, on=on, payment_terms=terms, limit=18, offset=offset, grace_days=grace
                ),
                on,
            )
            new = _plain(await reads.owed_periods(conn, limit=18, offset=offset, **kwargs))
            assert new == old, (on, terms, grace, offset)
            compared += len(old)
        chained = [r for page in await _keyset_pages(conn, limit=17, **kwargs) for r in page]
        assert chained == whole, (on, terms, grace)
        for client_id in list(dict.fromkeys(r["client_id"] for r in whole))[:3]:
            mine = [r for r in whole if r["client_id"] == client_id]
            one = _plain(await reads.owed_periods(conn, limit=2, offset=0, **{**kwargs, "client_id": client_id}))
            assert one == mine, (on, client_id)
    assert owing_days > len(DAYS) // 2 and compared > 1000, (owing_days, compared)


async def test_a_page_read_with_its_position_is_the_same_page(kept) -> None:
    """The HTTP path reads the position in the page's own statement (one snapshot, no
    transaction) and may reuse an earlier count's choice of plan (``few``): the same rows, gathered
    or walked, each with the position; a page without debtors is one row with only the position."""
    conn = kept
    undo = conn.transaction()
    await undo.start()
    try:
        # the history is saved without positions: give each client one (rolled back after)
        await conn.execute("UPDATE clients SET position = ('x' || substr(md5(client_id::text), 1, 8))::bit(32)::int")
        top = await conn.fetchval("SELECT max(position) FROM clients")
        for on in [date(2000, 1, 1), *DAYS[::3]]:
            plain = _plain(
                await reads.owed_periods(conn, on=on, payment_terms=None, client_id=None, limit=18, offset=0)
            )
            for few in PLANS.values():
                rows = await reads.owed_periods(
                    conn, on=on, payment_terms=None, client_id=None, limit=18, offset=0, few=few, with_position=True
                )
                assert {r["position"] for r in rows} == {top}, on
                page = [
                    {k: v for k, v in dict(r).items() if k != "position"} for r in rows if r["client_id"] is not None
                ]
                assert page == plain, (on, few)
                if not plain:
                    assert len(rows) == 1, rows
        one = await conn.fetchrow("SELECT client_id, position FROM clients ORDER BY position DESC LIMIT 1 OFFSET 3")
        rows = await reads.owed_periods(
            conn, on=DAYS[-1], payment_terms=None, client_id=one["client_id"], limit=2, offset=0, with_position=True
        )
        assert {r["position"] for r in rows} == {one["position"]}
        # a client no event of which was applied: one row, no position, no debts
        rows = await reads.owed_periods(
            conn, on=DAYS[-1], payment_terms=None, client_id=uuid4(), limit=2, offset=0, with_position=True
        )
        assert [dict(r)["position"] for r in rows] == [None] and rows[0]["client_id"] is None
    finally:
        await undo.rollback()
