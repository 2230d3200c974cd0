"""``application.ports.InvoiceBook`` and ``InvoiceLookup`` in PostgreSQL (migration 0005).

Numbers without gaps, with any number of replicas: a decision takes ``next_seq`` (the
counter row + 1) and the append that records its invoices moves the row from exactly that
value to the last number used, in the append's transaction. Two writers that read the same
value: the second one's UPDATE waits on the row lock, then finds the row moved on, matches
nothing, and raises ``InvoiceNumberTaken`` — its whole append (events, outbox, index) rolls
back, and the application decides again with fresh numbers. A number is therefore used
exactly when its invoice's events commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.contracts.application.ports import InvoiceNumberTaken, InvoiceRef


def _year_seq(number: str) -> tuple[int, int]:
    year, seq = number.split("-")
    return int(year), int(seq)


def claims(invoices: Sequence[InvoiceRef]) -> dict[int, tuple[int, int]]:
    """Per year: (first, last) number used; the numbers of one year must run without a gap."""
    by_year: dict[int, list[int]] = {}
    for inv in invoices:
        year, seq = _year_seq(inv.number)
        by_year.setdefault(year, []).append(seq)
    out: dict[int, tuple[int, int]] = {}
    for year, seqs in by_year.items():
        seqs.sort()
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            raise ValueError(f"invoice numbers of {year} with a gap: {seqs}")
        out[year] = (seqs[0], seqs[-1])
    return out


class PostgresInvoiceBook:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def next_seq(self, series: str, year: int) -> int:
        last = await self._pool.fetchval(
            "SELECT last_seq FROM invoice_counters WHERE series = $1 AND year = $2", series, year
        )
        return (last or 0) + 1

    async def record(self, tx: asyncpg.Connection, series: str, invoices: Sequence[InvoiceRef]) -> None:
        for year, (first, last) in claims(invoices).items():
            if first == 1:
                moved = await tx.fetchval(
                    """INSERT INTO invoice_counters (series, year, last_seq) VALUES ($1, $2, $3)
                       ON CONFLICT (series, year) DO UPDATE SET last_seq = excluded.last_seq
                       WHERE invoice_counters.last_seq = 0
                       RETURNING last_seq""",
                    series,
                    year,
                    last,
                )
            else:
                moved = await tx.fetchval(
                    """UPDATE invoice_counters SET last_seq = $4
                       WHERE series = $1 AND year = $2 AND last_seq = $3 RETURNING last_seq""",
                    series,
                    year,
                    first - 1,
                    last,
                )
            if moved is None:
                raise InvoiceNumberTaken(f"invoice numbers {year}-{first:06d}.. were taken meanwhile")
        await tx.executemany(
            """INSERT INTO invoices (invoice_id, series, number, contract_id, period_id, amount, currency)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [(i.invoice_id, series, i.number, i.contract_id, i.period_id, i.amount, i.currency) for i in invoices],
        )

    async def contract_of(self, invoice_id: UUID) -> UUID | None:
        contract_id: UUID | None = await self._pool.fetchval(
            "SELECT contract_id FROM invoices WHERE invoice_id = $1", invoice_id
        )
        return contract_id

    async def by_number(self, series: str, number: str) -> InvoiceRef | None:
        row = await self._pool.fetchrow(
            """SELECT invoice_id, number, contract_id, period_id, amount, currency
               FROM invoices WHERE series = $1 AND number = $2""",
            series,
            number.strip(),
        )
        return None if row is None else InvoiceRef(**dict(row))
