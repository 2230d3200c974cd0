"""The bodies ``views`` builds as plain dicts are exactly what the documented response models
would have produced: same fields in the same order, same JSON for UUIDs, dates and money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from asyncpg.pgproto import pgproto

from services.projections.application.queries import Answer, Page
from services.projections.domain.coverage import PeriodState, assess
from services.projections.domain.debts import group_debtors
from services.projections.domain.income import MonthIncome
from services.projections.entrypoints.http import schemas, views
from shared.http.paging import decode_cursor, encode_cursor
from tests.support.json_bodies import same_as_model

ON = date(2026, 4, 10)


def period(starts: date, ends: date, paid: str, currency: str = "RUB", terms: str = "prepaid") -> PeriodState:
    return PeriodState(uuid4(), "C-1", uuid4(), starts, ends, Decimal("1000.00"), currency, terms, Decimal(paid))


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [period(date(2026, 4, 1), date(2026, 4, 30), "1000")],
        [
            period(date(2026, 3, 1), date(2026, 3, 31), "0", "EUR", "postpaid"),
            period(date(2026, 4, 1), date(2026, 4, 30), "10.5"),
        ],
    ],
)
def test_coverage_body(periods: list[PeriodState]) -> None:
    body = views.coverage(uuid4(), Answer(assess(periods, ON), 42, False))
    same_as_model(schemas.CoverageOut, body)
    if body["active_period"] is not None:
        same_as_model(schemas.ActivePeriodOut, body["active_period"])
    for owed in body["owed"]:
        same_as_model(schemas.OwedPeriodOut, owed)


def test_debtors_body() -> None:
    owed = [
        o
        for p in (
            period(date(2026, 1, 1), date(2026, 1, 31), "0"),
            period(date(2026, 3, 1), date(2026, 3, 31), "1", "EUR"),
        )
        if (o := assess([p], ON).owed[0])
    ]
    debtors = group_debtors((uuid4(), "Alpha", o) for o in owed)
    body = views.debtors(ON, Answer(Page(debtors, 2), None, True), 1, 100)
    same_as_model(schemas.DebtorsOut, body)
    same_as_model(schemas.DebtorOut, body["items"][0])
    assert body["next_after"] is None


def test_a_debtors_page_with_more_after_it_answers_a_cursor_to_it() -> None:
    last = uuid4()
    body = views.debtors(ON, Answer(Page([], None, ("Жуков & Co", last)), 7, False), 1, 100)
    same_as_model(schemas.DebtorsOut, body)
    assert decode_cursor(body["next_after"]) == ["Жуков & Co", str(last)]
    assert decode_cursor("not a cursor!") is None and decode_cursor(encode_cursor([None, "x"])) == [None, "x"]


def test_contracts_body() -> None:
    """Rows come from asyncpg, whose UUID is a subclass orjson does not write by itself."""
    row = {
        "period_id": pgproto.UUID(str(uuid4())),
        "contract_id": uuid4(),
        "client_id": uuid4(),
        "starts_on": ON,
        "ends_on": ON,
        "amount": Decimal("5"),
        "currency": "RUB",
        "payment_terms": "postpaid",
        "remind_on": None,
        "paid_amount": Decimal("0"),
        "paid": False,
        "due_on": ON,
        "income_on": ON,
    }
    contract = {
        "contract_id": uuid4(),
        "client_id": uuid4(),
        "number": "N-1",
        "title": "t",
        "signed_on": None,
        "status": "terminated",
        "terminated_on": ON,
        "matched_periods": [row],
    }
    body = views.contracts(Answer(Page([contract], None), 7, False), 1, 50)
    same_as_model(schemas.ContractsOut, body)
    same_as_model(schemas.ContractOut, body["items"][0])
    same_as_model(schemas.PeriodOut, body["items"][0]["matched_periods"][0])


def test_income_body() -> None:
    months = [
        MonthIncome(date(2026, 1, 1), "RUB", Decimal("3"), Decimal("1.5"), Decimal("2")),
        MonthIncome(date(2026, 2, 1), None),
    ]
    body = views.income(Answer(months, 1, False))
    same_as_model(schemas.IncomeOut, body)
    same_as_model(schemas.MonthOut, body["months"][0])
