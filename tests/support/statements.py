"""Bank statements for tests: a 1C client-bank exchange file or a CSV, built from payments."""

from __future__ import annotations

from deploy.demo.statement import OUR_ACCOUNT, Doc, exchange_1c

__all__ = ["OUR_ACCOUNT", "Doc", "csv_text", "exchange_1c"]


def csv_text(rows: list[Doc], delimiter: str = ",") -> str:
    header = delimiter.join(("date", "amount", "currency", "payer", "payer_tax_id", "purpose", "document_number"))
    body = [
        delimiter.join(
            (
                d.on.isoformat(),
                d.amount,
                "RUB",
                '"' + d.payer.replace('"', '""') + '"',
                d.payer_tax_id,
                f'"{d.purpose}"',
                d.number,
            )
        )
        for d in rows
    ]
    return "\n".join([header, *body]) + "\n"
