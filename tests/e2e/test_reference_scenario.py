"""The reference scenario (docs/design.md §1) through the real processes, asserting every answer.

All four services and the scheduler run as processes on real Kafka, PostgreSQL and an SMTP
sink; the test talks HTTP only. Reads pass ``min_position`` instead of sleeping. The year is
a past one no other test writes to (2015), so the income for that year is this scenario's
alone; ``make demo`` plays the same steps for last year. Both are past, as a real late entry
is: payments are never dated ahead of today and ticks need no future allowance.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import asyncpg

from deploy.demo.mailbox import read_mailbox
from deploy.demo.scenario import play
from shared.formatting import long_date

YEAR = 2015


def codes(answer: dict) -> set[str]:
    return {w["code"] for w in answer["warnings"]}


async def wait_for_notifications(api, client_id: str, sent: int, skipped: int = 0, timeout: float = 60.0) -> list[dict]:
    """The notifier works from Kafka; poll its log (bounded) until ``sent`` e-mails (one per
    recipient) and ``skipped`` late notices are recorded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        items = (await api.notifications(client_id))["items"]
        done = (
            sum(len(n["recipients"]) for n in items if n["status"] == "sent") >= sent
            and sum(1 for n in items if n["status"] == "skipped_late") >= skipped
        )
        if done or loop.time() > deadline:
            return items
        await asyncio.sleep(0.3)


async def test_reference_scenario_end_to_end(abonent, stack):
    story = await play(abonent, YEAR)
    romashka = story.clients["romashka"]
    a = story.answers

    # Q1 paid: a ticket in February is covered.
    for name in ("ticket_q1", "ticket_q2", "ticket_after_year", "ticket_no_contract"):
        assert "COVERAGE_STALE" not in codes(a[name]["coverage"]), name  # min_position was reached
    q1 = a["ticket_q1"]["coverage"]
    assert q1["status"] == "covered" and q1["warnings"] == [] and q1["owed"] == []
    assert a["coverage_q1"]["status"] == "covered" and a["coverage_q1"]["stale"] is False

    # Q2 unpaid: a ticket in May shows the delay, with the amount and days overdue.
    q2 = a["ticket_q2"]["coverage"]
    assert q2["status"] == "unpaid" and "CURRENT_PERIOD_UNPAID" in codes(q2)
    assert [(o["starts_on"], o["amount_due"], o["days_overdue"]) for o in q2["owed"]] == [
        (f"{YEAR}-04-01", "30000.00", 44)
    ]
    assert q2["total_owed"] == "30000.00"

    # After 31 December, no prolongation: service cannot be provided under subscription.
    after = a["ticket_after_year"]["coverage"]
    assert after["status"] == "not_covered" and "NO_ACTIVE_PERIOD" in codes(after)
    assert after["total_owed"] == "60000.00"  # Q3 and Q4 are still owed (Q2 was paid in May)
    assert a["coverage_after_year"]["active_period"] is None
    nobody = a["ticket_no_contract"]["coverage"]
    assert nobody["status"] == "not_covered" and "NO_ACTIVE_PERIOD" in codes(nobody) and nobody["owed"] == []

    # Debtors on 15 April: Ромашка owes Q2, Вектор owes March (postpaid); Сидоров paid late but paid.
    debtors = {d["client_id"]: d for d in a["debtors_apr15"]["items"]}
    assert set(debtors) == {romashka.id, story.clients["vector"].id}
    assert debtors[romashka.id]["total_owed"] == "30000.00"
    assert [(p["due_on"], p["days_overdue"]) for p in debtors[romashka.id]["periods"]] == [(f"{YEAR}-04-01", 14)]
    vector = debtors[story.clients["vector"].id]
    assert vector["total_owed"] == "12000.00" and vector["currency"] == "RUB"
    assert [(p["ends_on"], p["due_on"]) for p in vector["periods"]] == [(f"{YEAR}-03-31", f"{YEAR}-04-01")]

    # As at a date (issue 12 case 4): asked after the year about 10 February, Сидоров — who paid
    # Q1 late, on 20 February — is listed with Q1, 40 days overdue; nobody else owed then.
    then = {d["client_id"]: d for d in a["debtors_feb10_asked_later"]["items"]}
    assert set(then) == {story.clients["sidorov"].id}
    sidorov = then[story.clients["sidorov"].id]
    assert [(p["due_on"], p["days_overdue"], p["amount_due"]) for p in sidorov["periods"]] == [
        (f"{YEAR}-01-01", 40, "45000.00")
    ]

    # Income by month: due by start (prepaid) or end (postpaid) month, received by payment date.
    # Quarters: Ромашка 30000 + Сидоров 45000 + Вектор's month 12000, plus Гамма's 20000 — its
    # Q3 prorated to 10000 by the termination, its Q4 void (no income at all).
    months = {m["month"]: m for m in a["income"]["months"]}
    quarters = {f"{YEAR}-01": "107000", f"{YEAR}-04": "107000", f"{YEAR}-07": "97000", f"{YEAR}-10": "87000"}
    for month, m in months.items():
        assert m["currency"] == "RUB"
        assert Decimal(m["due"]) == Decimal(quarters.get(month, "12000")), month
    assert {k: m["received"] for k, m in months.items() if Decimal(m["received"])} == {
        f"{YEAR}-01": "50000.00",
        f"{YEAR}-02": "57000.00",
        f"{YEAR}-03": "12000.00",
        f"{YEAR}-04": "45000.00",  # Сидоров's Q2, from April's bank statement
        f"{YEAR}-05": "42000.00",  # Ромашка's Q2 and the stranger's 12 000 for Вектор, from May's
        f"{YEAR}-07": "45000.00",
        f"{YEAR}-10": "45000.00",
    }
    assert months[f"{YEAR}-01"]["outstanding"] == "0.00"
    assert months[f"{YEAR}-04"]["outstanding"] == "32000.00"  # Вектор April, Гамма Q2

    assert_bank_statements(story)

    await assert_late_entry_and_termination(abonent, story)

    # E-mails: 4 reminders and 3 debt notices (Q2-Q4 overdue on their day), each to the manager
    # AND the general address; each quarter's invoice to the client's accountant and the manager
    # (Q2's on its day, 22 March; Q3's and Q4's at the ticks of the days they fell due, which
    # jumped their invoice days: still what the client pays by, so mailed, not old news).
    notes = await wait_for_notifications(abonent, romashka.id, sent=20)
    reminders = [n for n in notes if n["kind"] == "reminder"]
    debt_notices = [n for n in notes if n["kind"] == "debt_notice"]
    assert len(reminders) == 4 and len(debt_notices) == 3
    for n in reminders + debt_notices:
        assert n["status"] == "sent"
        assert sorted(n["recipients"]) == sorted([romashka.manager_email, "service-desk@example.com"])
    invoices = sorted((n["status"], sorted(n["recipients"])) for n in notes if n["kind"] == "invoice")
    assert invoices == [("sent", sorted([romashka.billing_email, romashka.manager_email]))] * 3
    mails = [m for m in read_mailbox(stack.maildir) if romashka.manager_email in m.to]
    assert len(mails) == 10  # exactly once each, even though Kafka may redeliver
    assert_q2_invoice(story, read_mailbox(stack.maildir))
    q1_end = long_date(date(YEAR, 3, 31), "ru")
    q1_reminder = [m for m in mails if m.subject.startswith("Напоминание") and q1_end in m.subject]
    assert len(q1_reminder) == 1, [m.subject for m in mails]
    body = q1_reminder[0].body
    assert romashka.name in body and "30 000,00" in body  # the next period's amount, due 1 April
    assert long_date(date(YEAR, 4, 1), "ru") in body

    await assert_who_did_what(abonent, stack, romashka)


def assert_bank_statements(story) -> None:
    """April's statement pays Сидоров's Q2 by its contract number and tax id; May's re-exports
    that payment (skipped), pays Ромашка's Q2 by its invoice number, and keeps a payer nobody
    knows unallocated until the accountant allocates it to Вектор's contract by hand."""
    a, romashka = story.answers, story.clients["romashka"]
    april, may = a["statement_april"], a["statement_may"]
    assert (april["payments"], april["matched"], april["matched_by"], april["unallocated"]) == (
        1,
        1,
        {"contract_number": 1},
        0,
    )
    counts = ("payments", "matched", "already_imported", "unallocated", "rejected", "outgoing")
    assert [may[k] for k in counts] == [3, 1, 1, 1, 0, 0] and may["matched_by"] == {"invoice_number": 1}

    q2 = a["romashka_contract"]["periods"][1]
    assert (q2["paid"], q2["paid_amount"]) == (True, "30000.00")
    (payment,) = q2["payments"]
    assert payment["paid_on"] == f"{YEAR}-05-18"
    assert payment["reference"].startswith("bank 245-") and payment["reference"].endswith(romashka.tax_id)
    sidorov_q2 = a["sidorov_contract"]["periods"][1]
    assert sidorov_q2["paid"] and [p["paid_on"] for p in sidorov_q2["payments"]] == [f"{YEAR}-04-10"]

    waiting = a["unallocated_stranger"]
    assert (waiting["amount"], waiting["booked_on"], waiting["payer"]) == (
        "12000.00",
        f"{YEAR}-05-19",
        "ООО «Вектор-Лизинг»",
    )
    assert waiting["reason"] == f"no client is registered with tax id {waiting['payer_tax_id']}"
    allocated = a["allocated_stranger"]
    vector_march = a["vector_contract"]["periods"][2]
    assert [(p["period_id"], p["amount"]) for p in allocated["payments"]] == [(vector_march["period_id"], "12000.00")]
    assert vector_march["paid"] and vector_march["payments"][0]["receipt_id"] == waiting["id"]


def assert_q2_invoice(story, mailbox) -> None:
    """Q2's invoice: issued 10 days before 1 April, numbered YYYY-NNNNNN, mailed with its PDF to
    the client's accountant and (a copy) to the manager; Сидоров renewed itself 5 % dearer."""
    romashka, a = story.clients["romashka"], story.answers
    invoice = a["romashka_q2_invoice"]
    assert invoice is not None
    assert invoice["issued_on"] == f"{YEAR}-03-22" and invoice["due_on"] == f"{YEAR}-04-01"
    assert invoice["amount"] == "30000.00" and invoice["buyer"]["tax_id"] == "7712345678"
    assert invoice["amount_in_words"] == "Тридцать тысяч рублей 00 копеек"
    year, seq = invoice["number"].split("-")
    assert year == str(YEAR) and len(seq) == 6 and int(seq) >= 1
    for address in (romashka.billing_email, romashka.manager_email):
        got = [m for m in mailbox if address in m.to and invoice["number"] in m.subject]
        assert len(got) == 1, (address, [m.subject for m in mailbox if address in m.to])
        (name, pdf), *_ = got[0].attachments
        assert name.endswith(f"{invoice['number']}.pdf") and pdf.startswith(b"%PDF")

    sidorov = a["sidorov_contract"]
    renewed = [p for p in sidorov["periods"] if p["starts_on"] > f"{YEAR}-12-31"]
    assert [(p["starts_on"], p["amount"]) for p in renewed] == [
        (f"{YEAR + 1}-01-01", "47250.00"),
        (f"{YEAR + 1}-04-01", "47250.00"),
        (f"{YEAR + 1}-07-01", "47250.00"),
        (f"{YEAR + 1}-10-01", "47250.00"),
    ]
    assert sidorov["auto_renew"]["renews_on"] == f"{YEAR + 1}-12-01"  # armed for the next year


async def assert_late_entry_and_termination(abonent, story) -> None:
    """Гамма: entered in June for a contract running since January; terminated on 16 August."""
    gamma, a = story.clients["gamma"], story.answers
    contract = a["gamma_contract"]
    assert contract["status"] == "terminated"
    q1, q2, q3, q4 = contract["periods"]
    assert q1["paid"] and not q2["paid"]
    assert (q3["ends_on"], q3["amount"], q3["void"]) == (f"{YEAR}-08-15", "10000.00", False)  # 46 of 92 days
    assert q4["void"] is True

    # The termination date means the same day everywhere: no service from 16 August, nothing
    # owed for the void Q4, and the scheduler announced nothing for it.
    cov = a["gamma_coverage_oct"]
    assert cov["status"] == "not_covered" and "NO_ACTIVE_PERIOD" in codes(cov)
    assert [(o["starts_on"], o["amount_due"]) for o in cov["owed"]] == [
        (f"{YEAR}-04-01", "20000.00"),
        (f"{YEAR}-07-01", "10000.00"),
    ]
    debtors = {d["client_id"]: d for d in a["debtors_after_year"]["items"]}
    assert debtors[gamma.id]["total_owed"] == "30000.00"
    history = (await abonent.events(gamma.contract_id))["items"]
    about_q4 = [
        e
        for e in history
        if q4["period_id"] in (e["data"].get("period_id"), (e["data"].get("period") or {}).get("period_id"))
    ]
    assert [e["event_type"] for e in about_q4] == ["ServicePeriodAdded"]

    # Entered late: what was older than ABONENT_LATE_EVENT_DAYS at the tick is recorded, not
    # mailed (Q1's reminder, Q2's debt, Q3's reminder moved before the cut); today's news is.
    # Its invoices came at those ticks too: Q2's for a period long due (old news, not mailed),
    # Q3's on the day Q3 fell due (mailed: to the manager, Гамма has no billing address).
    notes = await wait_for_notifications(abonent, gamma.id, sent=5, skipped=4)
    by_status = sorted((n["kind"], n["status"]) for n in notes)
    assert by_status == [
        ("debt_notice", "sent"),
        ("debt_notice", "skipped_late"),
        ("invoice", "sent"),
        ("invoice", "skipped_late"),
        ("reminder", "sent"),
        ("reminder", "skipped_late"),
        ("reminder", "skipped_late"),
    ]


async def assert_who_did_what(abonent, stack, romashka) -> None:
    """The manager signs, the accountant records payments, the admin ticks the scheduler, the
    dispatcher registers tickets: each event's actor is the subject of the token it came with."""
    events = (await abonent.events(romashka.contract_id))["items"]
    actors = {e["event_type"]: e["actor"] for e in events}
    assert actors["ContractOpened"] == actors["ServicePeriodAdded"] == "e2e-test-manager"
    assert actors["PaymentRecorded"] == "e2e-test-accountant"
    assert actors["ServicePeriodEndingSoon"] == "e2e-test-admin"
    conn = await asyncpg.connect(stack.database_urls["tickets"])
    try:
        ticket_actors = {
            r["actor"]
            for r in await conn.fetch(
                "SELECT actor FROM events WHERE event_type = 'TicketRegistered' AND data->>'client_id' = $1",
                romashka.id,
            )
        }
    finally:
        await conn.close()
    assert ticket_actors == {"e2e-test-dispatcher"}
