"""Domain results → response bodies, as plain dicts serialised by orjson.

The bodies are exactly the shapes ``schemas`` describes (same fields, same order; a unit
test validates them against those models), but they are built as dicts and answered with
``shared.http.json_body.JsonBody``: building a pydantic model per owed period and letting
FastAPI validate and dump it again was a fifth of a debtors page's CPU. UUIDs and dates are
serialised by orjson in the same form pydantic uses; money is formatted here.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from services.projections.application.queries import Answer, Page
from services.projections.domain.coverage import Coverage, OwedPeriod
from services.projections.domain.debts import Debtor
from services.projections.domain.income import MonthIncome
from shared.http.json_body import Body
from shared.http.paging import encode_cursor
from shared.money import format_amount


@lru_cache(maxsize=4096)
def money(amount: Decimal, currency: str) -> str:
    """``format_amount`` with a currency, remembered: a page repeats a few amounts (prices,
    what is left of them) hundreds of times. Equal amounts format alike in one currency
    (``Decimal("5")`` and ``Decimal("5.00")`` both give its digits), so the cache is exact."""
    return format_amount(amount, currency)


def _freshness(answer: Answer[Any]) -> Body:
    return {"position": answer.position, "stale": answer.stale, "stale_reason": answer.stale_reason}


def owed(o: OwedPeriod) -> Body:
    return {
        "contract_id": o.contract_id,
        "period_id": o.period_id,
        "starts_on": o.starts_on,
        "ends_on": o.ends_on,
        "payment_terms": o.payment_terms,
        "due_on": o.due_on,
        "amount_due": money(o.amount_due, o.currency),
        "currency": o.currency,
        "days_overdue": o.days_overdue,
    }


def coverage(client_id: UUID, answer: Answer[Coverage]) -> Body:
    c, active = answer.result, answer.result.active_period
    totals = c.totals
    single = len(totals) <= 1
    return {
        **_freshness(answer),
        "client_id": client_id,
        "on": c.on,
        "status": c.status,
        "active_period": None
        if active is None
        else {
            "contract_id": active.contract_id,
            "contract_number": active.contract_number,
            "period_id": active.period_id,
            "starts_on": active.starts_on,
            "ends_on": active.ends_on,
            "payment_terms": active.payment_terms,
            "amount": money(active.amount, active.currency),
            "paid_amount": money(active.paid_amount, active.currency),
            "paid": active.paid,
            "currency": active.currency,
        },
        "owed": [owed(o) for o in c.owed],
        "total_owed": (money(*next(iter((v, k) for k, v in totals.items()))) if totals else "0.00") if single else None,
        "currency": next(iter(totals)) if len(totals) == 1 else None,
        "totals": [{"amount": money(v, k), "currency": k} for k, v in totals.items()],
        "warnings": [{"code": w.code, "message": w.message} for w in c.warnings],
    }


def period(r: dict[str, Any]) -> Body:
    return {
        "period_id": r["period_id"],
        "starts_on": r["starts_on"],
        "ends_on": r["ends_on"],
        "amount": money(r["amount"], r["currency"]),
        "currency": r["currency"],
        "payment_terms": r["payment_terms"],
        "remind_on": r["remind_on"],
        "paid_amount": money(r["paid_amount"], r["currency"]),
        "paid": r["paid"],
        "due_on": r["due_on"],
    }


def contract(c: dict[str, Any]) -> Body:
    return {
        "contract_id": c["contract_id"],
        "client_id": c["client_id"],
        "number": c["number"],
        "title": c["title"],
        "signed_on": c["signed_on"],
        "status": c["status"],
        "terminated_on": c["terminated_on"],
        "matched_periods": [period(p) for p in c["matched_periods"]],
    }


def contracts(answer: Answer[Page[dict[str, Any]]], page: int, page_size: int) -> Body:
    return {
        **_freshness(answer),
        "items": [contract(c) for c in answer.result.items],
        "page": page,
        "page_size": page_size,
        "next_page": answer.result.next_page,
    }


def debtor(d: Debtor) -> Body:
    return {
        "client_id": d.client_id,
        "client_name": d.client_name,
        "total_owed": money(d.total_owed, d.currency),
        "currency": d.currency,
        "periods": [owed(o) for o in d.periods],
        "ageing": {k: money(v, d.currency) for k, v in d.ageing.items()},
    }


def debtors(on: Any, answer: Answer[Page[Debtor]], page: int, page_size: int) -> Body:
    after = answer.result.next_after
    return {
        **_freshness(answer),
        "on": on,
        "items": [debtor(d) for d in answer.result.items],
        "page": page,
        "page_size": page_size,
        "next_page": answer.result.next_page,
        "next_after": None if after is None else encode_cursor([after[0], str(after[1])]),
    }


def income(answer: Answer[list[MonthIncome]]) -> Body:
    return {
        **_freshness(answer),
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                "currency": m.currency,
                "due": money(m.due, m.currency),
                "received": money(m.received, m.currency),
                "outstanding": money(m.outstanding, m.currency),
            }
            for m in answer.result
        ],
    }


def client_body(c: dict[str, Any]) -> Body:
    return {
        "client_id": c["client_id"],
        "name": c["name"],
        "manager_name": c["manager_name"],
        "manager_email": c["manager_email"],
    }


def clients(found: Page[dict[str, Any]], page: int, page_size: int) -> Body:
    return {
        "items": [client_body(c) for c in found.items],
        "page": page,
        "page_size": page_size,
        "next_page": found.next_page,
    }


def client(answer: Answer[dict[str, Any]]) -> Body:
    return {**client_body(answer.result), **_freshness(answer)}
