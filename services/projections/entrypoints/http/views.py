"""Domain results → response bodies."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.projections.application.queries import Answer, Page
from services.projections.domain.coverage import Coverage, OwedPeriod
from services.projections.domain.debts import Debtor
from services.projections.domain.income import MonthIncome
from services.projections.domain.money import fmt
from services.projections.entrypoints.http import schemas as s


def owed(o: OwedPeriod) -> s.OwedPeriodOut:
    return s.OwedPeriodOut(
        contract_id=o.contract_id, period_id=o.period_id, starts_on=o.starts_on, ends_on=o.ends_on,
        payment_terms=o.payment_terms, due_on=o.due_on, amount_due=fmt(o.amount_due),  # type: ignore[arg-type]
        currency=o.currency, days_overdue=o.days_overdue)


def coverage(client_id: UUID, answer: Answer[Coverage]) -> s.CoverageOut:
    c, active = answer.result, answer.result.active_period
    totals = c.totals
    single = len(totals) <= 1
    return s.CoverageOut(
        client_id=client_id, on=c.on, status=c.status,  # type: ignore[arg-type]
        active_period=None if active is None else s.ActivePeriodOut(
            contract_id=active.contract_id, contract_number=active.contract_number,
            period_id=active.period_id, starts_on=active.starts_on, ends_on=active.ends_on,
            payment_terms=active.payment_terms, amount=fmt(active.amount),  # type: ignore[arg-type]
            paid_amount=fmt(active.paid_amount), paid=active.paid, currency=active.currency),
        owed=[owed(o) for o in c.owed],
        total_owed=(fmt(next(iter(totals.values()))) if totals else "0.00") if single else None,
        currency=next(iter(totals)) if len(totals) == 1 else None,
        totals=[s.MoneyOut(amount=fmt(v), currency=k) for k, v in totals.items()],
        warnings=[s.WarningOut(code=w.code, message=w.message) for w in c.warnings],  # type: ignore[arg-type]
        position=answer.position, stale=answer.stale)


def period(r: dict[str, Any]) -> s.PeriodOut:
    return s.PeriodOut(
        period_id=r["period_id"], starts_on=r["starts_on"], ends_on=r["ends_on"],
        amount=fmt(r["amount"]), currency=r["currency"], payment_terms=r["payment_terms"],
        remind_on=r["remind_on"], paid_amount=fmt(r["paid_amount"]), paid=r["paid"], due_on=r["due_on"])


def contracts(answer: Answer[Page[dict[str, Any]]]) -> s.ContractsOut:
    items = [s.ContractOut(**{**c, "matched_periods": [period(p) for p in c["matched_periods"]]})
             for c in answer.result.items]
    return s.ContractsOut(items=items, next_page=answer.result.next_page,
                          position=answer.position, stale=answer.stale)


def debtor(d: Debtor) -> s.DebtorOut:
    return s.DebtorOut(client_id=d.client_id, client_name=d.client_name, total_owed=fmt(d.total_owed),
                       currency=d.currency, periods=[owed(o) for o in d.periods],
                       ageing={k: fmt(v) for k, v in d.ageing.items()})


def debtors(on: Any, answer: Answer[Page[Debtor]]) -> s.DebtorsOut:
    return s.DebtorsOut(on=on, items=[debtor(d) for d in answer.result.items],
                        next_page=answer.result.next_page, position=answer.position, stale=answer.stale)


def income(answer: Answer[list[MonthIncome]]) -> s.IncomeOut:
    return s.IncomeOut(
        months=[s.MonthOut(month=m.month.strftime("%Y-%m"), currency=m.currency, due=fmt(m.due),
                           received=fmt(m.received), outstanding=fmt(m.outstanding))
                for m in answer.result],
        position=answer.position, stale=answer.stale)
