"""The contracts list, debtors and income as CSV or XLSX downloads, with the JSON answer's filters.

Asked for by ``format=csv|xlsx`` or by ``Accept: text/csv`` / the XLSX media type (``format``
wins). A download is every page, not one: the rows come from the same queries page by page
(500 a page, each page its own snapshot) and are written as they come:

* CSV is streamed to the client as each page is read (UTF-8 with a byte-order mark, so
  spreadsheet programs read Cyrillic names right; one header line; ``;``-free, comma-separated);
* XLSX is a zip that can only be finished at the end: openpyxl's write-only workbook keeps
  memory flat while the rows are added, the file is written to a temporary file and then
  streamed from it. Money cells are numbers, dates are dates.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import StreamingResponse

from shared.money import round_to_currency

Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
EXPORT_PAGE = 500
CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON (the model below), or with format=csv|xlsx (or Accept) every page as a download",
        "content": {f"{CSV}; charset=utf-8": {"schema": {"type": "string"}}, XLSX: {"schema": {"type": "string"}}},
    }
}
FORMAT_DESCRIPTION = (
    "csv or xlsx: download every page (same filters; page and page_size are ignored); "
    "default: JSON, or what the Accept header asks for (text/csv, the XLSX media type)"
)

Row = Sequence[Any]


async def every_page(
    fetch: Callable[[int, int | None], Awaitable[Any]],
    rows: Callable[[Any], list[Row]],
    min_position: int | None,
) -> AsyncIterator[list[Row]]:
    """The rows of every page a list query answers, first to last: ``fetch(page, min_position)``
    is the query for one page (an ``Answer`` of a ``Page``); only the first page waits for
    ``min_position`` (the later ones read the same or a newer state)."""
    number, wait = 1, min_position
    while True:
        answer = await fetch(number, wait)
        yield rows(answer.result.items)
        if answer.result.next_page is None:
            return
        number, wait = answer.result.next_page, None


async def every_keyset_page(
    fetch: Callable[[Any, int | None], Awaitable[Any]],
    rows: Callable[[Any], list[Row]],
    min_position: int | None,
) -> AsyncIterator[list[Row]]:
    """``every_page`` for a list paged by a keyset cursor: ``fetch(after, min_position)``, the
    first with ``after`` None, each next one after the last item of the page before — each page
    costs what the first costs, so a long download stays linear."""
    after, wait = None, min_position
    while True:
        answer = await fetch(after, wait)
        yield rows(answer.result.items)
        if answer.result.next_after is None:
            return
        after, wait = answer.result.next_after, None


def wanted(request: Request, given: Format | None) -> Format:
    if given is not None:
        return given
    accept = request.headers.get("accept", "")
    if CSV in accept:
        return "csv"
    if XLSX in accept:
        return "xlsx"
    return "json"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _csv(header: Sequence[str], rows: AsyncIterator[Iterable[Row]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for page in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_text(v) for v in row] for row in page)
        yield buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal | int | float | date | bool) or value is None:
        return value
    return str(value)


async def _xlsx(sheet: str, header: Sequence[str], rows: AsyncIterator[Iterable[Row]]) -> AsyncIterator[bytes]:
    # imported on the first spreadsheet asked for: openpyxl costs a projections process
    # ~8 MB of RSS, and most never write one
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(header))
    async for page in rows:
        for row in page:
            ws.append([_cell(v) for v in row])
    with tempfile.TemporaryFile() as file:
        await asyncio.to_thread(book.save, file)
        file.seek(0)
        while chunk := await asyncio.to_thread(file.read, 64 * 1024):
            yield chunk


def download(
    fmt: Literal["csv", "xlsx"], name: str, header: Sequence[str], rows: AsyncIterator[Iterable[Row]]
) -> StreamingResponse:
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return StreamingResponse(_csv(header, rows), media_type=f"{CSV}; charset=utf-8", headers=disposition)
    return StreamingResponse(_xlsx(name, header, rows), media_type=XLSX, headers=disposition)


CONTRACT_COLUMNS = (
    "contract_number",
    "contract_id",
    "client_id",
    "title",
    "status",
    "terminated_on",
    "period_id",
    "starts_on",
    "ends_on",
    "payment_terms",
    "amount",
    "currency",
    "paid_amount",
    "paid",
    "due_on",
)


def contract_rows(items: Iterable[dict[str, Any]]) -> list[Row]:
    """One row per matched period (a contract without one: one row with the period cells empty)."""
    rows: list[Row] = []
    for c in items:
        head = (c["number"], c["contract_id"], c["client_id"], c["title"], c["status"], c["terminated_on"])
        periods = c["matched_periods"] or [None]
        for p in periods:
            if p is None:
                rows.append((*head, *([None] * 9)))
            else:
                rows.append(
                    (
                        *head,
                        p["period_id"],
                        p["starts_on"],
                        p["ends_on"],
                        p["payment_terms"],
                        round_to_currency(p["amount"], p["currency"]),
                        p["currency"],
                        round_to_currency(p["paid_amount"], p["currency"]),
                        p["paid"],
                        p["due_on"],
                    )
                )
    return rows


DEBTOR_COLUMNS = (
    "client_name",
    "client_id",
    "contract_id",
    "period_id",
    "starts_on",
    "ends_on",
    "payment_terms",
    "due_on",
    "days_overdue",
    "amount_due",
    "currency",
    "client_total_owed",
)


def debtor_rows(debtors: Iterable[Any]) -> list[Row]:
    """One row per owed period, with its client's total in that currency."""
    return [
        (
            d.client_name,
            d.client_id,
            o.contract_id,
            o.period_id,
            o.starts_on,
            o.ends_on,
            o.payment_terms,
            o.due_on,
            o.days_overdue,
            round_to_currency(o.amount_due, o.currency),
            o.currency,
            round_to_currency(d.total_owed, d.currency),
        )
        for d in debtors
        for o in d.periods
    ]


INCOME_COLUMNS = ("month", "currency", "due", "received", "outstanding")


def income_rows(months: Iterable[Any]) -> list[Row]:
    def money(amount: Decimal, currency: str | None) -> Decimal:
        return amount if currency is None else round_to_currency(amount, currency)

    return [
        (
            m.month.strftime("%Y-%m"),
            m.currency,
            money(m.due, m.currency),
            money(m.received, m.currency),
            money(m.outstanding, m.currency),
        )
        for m in months
    ]
