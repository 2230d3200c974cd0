"""The payer directory and the ledger of imported bank payments in PostgreSQL (migration 0006)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import asyncpg

from services.contracts.application.ports import KeptReceipt, LineAlreadyImported
from services.contracts.domain.statements.lines import BankLine
from shared.domain_errors import Conflict
from shared.eventstore.row_write import RowWrite

_COLUMNS = (
    "id, status, booked_on, document_number, document_date, amount, currency, payer, payer_tax_id, "
    "payer_account, account, purpose, reference, reason, rule, contract_id, imported_by"
)
_INSERT = f"""INSERT INTO bank_receipts ({_COLUMNS})
   SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::date[], $6::numeric[], $7::text[],
                        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                        $15::text[], $16::uuid[], $17::text[])
   ON CONFLICT (id) DO NOTHING
   RETURNING id"""


def _columns(rows: Sequence[tuple[BankLine, str, str | None, str | None, UUID | None]], actor: str) -> list[list]:
    """(line, status, reason, rule, contract) rows as the INSERT's column arrays."""
    return [
        [r[0].id for r in rows],
        [r[1] for r in rows],
        [r[0].booked_on for r in rows],
        [r[0].document_number for r in rows],
        [r[0].document_date for r in rows],
        [r[0].amount for r in rows],
        [r[0].currency for r in rows],
        [r[0].payer for r in rows],
        [r[0].payer_tax_id for r in rows],
        [r[0].payer_account for r in rows],
        [r[0].account for r in rows],
        [r[0].purpose for r in rows],
        [r[0].reference for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [actor] * len(rows),
    ]


def _kept(row: asyncpg.Record) -> KeptReceipt:
    return KeptReceipt(
        id=row["id"],
        line=BankLine(
            line=0,
            document_number=row["document_number"],
            document_date=row["document_date"],
            booked_on=row["booked_on"],
            amount=row["amount"],
            currency=row["currency"],
            payer=row["payer"],
            payer_tax_id=row["payer_tax_id"],
            payer_account=row["payer_account"],
            purpose=row["purpose"],
            account=row["account"],
        ),
        reference=row["reference"],
        status=row["status"],
        reason=row["reason"],
        contract_id=row["contract_id"],
        imported_at=row["imported_at"],
        imported_by=row["imported_by"],
    )


class PostgresPayerDirectory:
    """``application.ports.PayerDirectory`` in ``payer_tax_ids`` and ``payer_contracts``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def recording_client(self, client_id: UUID, tax_id: str | None) -> RowWrite:
        if tax_id is None:
            return RowWrite.of(
                "DELETE FROM payer_tax_ids WHERE client_id = $1 AND EXISTS (SELECT FROM appended)", client_id
            )
        return RowWrite.of(
            """INSERT INTO payer_tax_ids (client_id, tax_id) SELECT $1::uuid, $2::text FROM appended
               ON CONFLICT (client_id) DO UPDATE SET tax_id = excluded.tax_id""",
            client_id,
            tax_id,
        )

    def recording_contract(self, contract_id: UUID, client_id: UUID, number: str) -> RowWrite:
        return RowWrite.of(
            """INSERT INTO payer_contracts (contract_id, client_id, number)
               SELECT $1::uuid, $2::uuid, $3::text FROM appended
               ON CONFLICT (contract_id) DO NOTHING""",
            contract_id,
            client_id,
            number,
        )

    async def contracts_paid_by(self, tax_ids: Collection[str]) -> dict[str, list[UUID]]:
        if not tax_ids:
            return {}
        rows = await self._pool.fetch(
            """SELECT t.tax_id, c.contract_id FROM payer_tax_ids t JOIN payer_contracts c USING (client_id)
               WHERE t.tax_id = ANY($1::text[]) ORDER BY t.tax_id, c.contract_id""",
            list(tax_ids),
        )
        found: dict[str, list[UUID]] = {}
        for row in rows:
            found.setdefault(row["tax_id"], []).append(row["contract_id"])
        return found


class PostgresStatementLedger:
    """``application.ports.StatementLedger`` in ``bank_receipts``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def imported(self, ids: Collection[UUID]) -> set[UUID]:
        if not ids:
            return set()
        rows = await self._pool.fetch("SELECT id FROM bank_receipts WHERE id = ANY($1::uuid[])", list(ids))
        return {r["id"] for r in rows}

    async def record_matched(
        self, tx: asyncpg.Connection, line: BankLine, contract_id: UUID, rule: str, actor: str
    ) -> None:
        inserted = await tx.fetch(_INSERT, *_columns([(line, "matched", None, rule, contract_id)], actor))
        if not inserted:
            raise LineAlreadyImported(line.id)

    async def record_matched_many(
        self, tx: asyncpg.Connection, rows: Sequence[tuple[BankLine, UUID, str]], actor: str
    ) -> None:
        inserted = {
            r["id"]
            for r in await tx.fetch(
                _INSERT, *_columns([(line, "matched", None, rule, contract) for line, contract, rule in rows], actor)
            )
        }
        missing = next((line.id for line, _, _ in rows if line.id not in inserted), None)
        if missing is not None:
            raise LineAlreadyImported(missing)

    async def keep_unallocated(self, lines: Sequence[tuple[BankLine, str]], actor: str) -> set[UUID]:
        rows = await self._pool.fetch(
            _INSERT, *_columns([(line, "unallocated", reason, None, None) for line, reason in lines], actor)
        )
        return {r["id"] for r in rows}

    async def unallocated(self, limit: int, offset: int) -> list[KeptReceipt]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS}, imported_at FROM bank_receipts WHERE status = 'unallocated' "
            "ORDER BY seq LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [_kept(r) for r in rows]

    async def get(self, receipt_id: UUID) -> KeptReceipt | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS}, imported_at FROM bank_receipts WHERE id = $1", receipt_id)
        return _kept(row) if row is not None else None

    async def mark_allocated(
        self, tx: asyncpg.Connection | None, receipt_id: UUID, contract_id: UUID, actor: str
    ) -> None:
        done = await (tx or self._pool).fetchval(
            """UPDATE bank_receipts SET status = 'allocated', contract_id = $2, allocated_at = now(), allocated_by = $3
               WHERE id = $1 AND status = 'unallocated' RETURNING id""",
            receipt_id,
            contract_id,
            actor,
        )
        if done is None:
            raise Conflict("receipt_allocated", f"bank receipt {receipt_id} is no longer unallocated", "receipt_id")
