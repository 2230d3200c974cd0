"""Aggregate state and table rows → response bodies.

A ticket's body (the answer of every command on it and of ``GET /tickets/{id}``) is built as a
plain dict in ``schemas.TicketOut``'s shape and answered as ``shared.http.json_body.JsonBody``:
a pydantic model per owed period and line, validated and dumped again by FastAPI, was a tenth
of a registration's CPU in this process. A unit test holds each dict to its model, byte for
byte. The list and the price list, read seldom, keep their models.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.tickets.application.ports import StoredPriceItem
from services.tickets.domain.ticket import TicketState
from services.tickets.entrypoints.http import schemas as s
from shared.events.tickets import CoverageSnapshot, format_quantity
from shared.http.json_body import Body
from shared.money import format_amount


def money(totals: dict[str, Decimal]) -> list[Body]:
    return [{"amount": format_amount(v, k), "currency": k} for k, v in totals.items()]


def coverage(c: CoverageSnapshot) -> Body:
    """``schemas.CoverageOut``'s shape."""
    totals = {t.currency: t.amount for t in c.totals}
    if c.status == "unknown" or len(totals) > 1:
        total_owed, currency = None, None
    elif totals:
        ((currency, amount),) = totals.items()
        total_owed = format_amount(amount, currency)
    else:
        total_owed, currency = "0.00", None
    a = c.active_period
    return {
        "status": c.status,
        "on": c.on,
        "warnings": [{"code": w.code, "message": w.message} for w in c.warnings],
        "owed": [
            {
                "contract_id": o.contract_id,
                "period_id": o.period_id,
                "starts_on": o.starts_on,
                "ends_on": o.ends_on,
                "payment_terms": o.payment_terms,
                "due_on": o.due_on,
                "amount_due": format_amount(o.amount_due, o.currency),
                "currency": o.currency,
                "days_overdue": o.days_overdue,
            }
            for o in c.owed
        ],
        "total_owed": total_owed,
        "currency": currency,
        "totals": money(totals),
        "active_period": None
        if a is None
        else {
            "contract_id": a.contract_id,
            "contract_number": a.contract_number,
            "period_id": a.period_id,
            "starts_on": a.starts_on,
            "ends_on": a.ends_on,
            "payment_terms": a.payment_terms,
            "amount": format_amount(a.amount, a.currency),
            "paid_amount": format_amount(a.paid_amount, a.currency),
            "paid": a.paid,
            "currency": a.currency,
        },
        "checked_at": c.checked_at,
        "source_position": c.source_position,
        "stale": c.stale,
    }


def ticket(state: TicketState, position: int | None) -> Body:
    """``schemas.TicketOut``'s shape."""
    return {
        "id": state.id,
        "client_id": state.client_id,
        "title": state.title,
        "description": state.description,
        "registered_at": state.registered_at,
        "registered_on": state.registered_on,
        "coverage": coverage(state.coverage),
        "not_covered_policy": state.policy,
        "override_reason": state.override_reason,
        "lines": [
            {
                "line_id": x.line_id,
                "code": x.code,
                "name": x.name,
                "unit": x.unit,
                "quantity": format_quantity(x.quantity),
                "unit_price": format_amount(x.unit_price, x.currency),
                "currency": x.currency,
                "line_total": format_amount(x.line_total, x.currency),
            }
            for x in state.lines
        ],
        "totals": money(state.totals),
        "billable": state.billable,
        "version": state.version,
        "position": position,
    }


def summary(row: dict[str, Any]) -> s.TicketSummaryOut:
    return s.TicketSummaryOut(
        id=row["ticket_id"],
        client_id=row["client_id"],
        title=row["title"],
        registered_at=row["registered_at"],
        registered_on=row["registered_on"],
        coverage_status=row["coverage_status"],
        warning_codes=list(row["warning_codes"]),
        override_reason=row["override_reason"],
        billable=row["billable"],
        lines=row["lines"],
        totals=[s.MoneyOut(**t) for t in row["totals"]],
        version=row["version"],
        position=row["position"],
    )


def price_item(stored: StoredPriceItem) -> s.PriceItemOut:
    i = stored.item
    return s.PriceItemOut(
        code=i.code,
        name=i.name,
        unit=i.unit,
        price=format_amount(i.price, i.currency),
        currency=i.currency,
        active=i.active,
        version=stored.version,
        updated_at=stored.updated_at,
    )
