"""``make demo``: play the reference scenario against the running system and tell it readably."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from deploy.demo.client import Abonent
from deploy.demo.mailbox import read_mailbox
from deploy.demo.scenario import Story, play, story_year
from deploy.local.layout import DEFAULT_RUN_DIR
from deploy.local.services import SERVICES
from shared.auth.settings import AuthSettings, settings_from

console = Console()


def say(kind: str, what: Any) -> None:
    if kind == "date":
        return
    if isinstance(what, dict) and "client" in what:
        what = {**what, "client": escape(what["client"])}  # "[7110bc]" is text, not a style
    if kind == "signed":
        console.print(
            f"[bold]✍  {what['client']}[/]: {what['periods']} periods, every {what['every']}, "
            f"{what['amount']} RUB, {what['terms']}"
        )
    elif kind == "paid":
        console.print(f"💳 {what['paid_on']}  {what['client']} paid period {what['period']}")
    elif kind == "terminated":
        console.print(
            f"✂  {what['client']}: terminated on {what['on']} (first day without service), the running quarter prorated"
        )
    elif kind == "statement":
        a = what["answer"]
        by = ", ".join(f"{n} by {rule}" for rule, n in a["matched_by"].items())
        console.print(
            f"🏦 {what['on']}  bank statement imported ({a['payments']} payments): "
            f"{a['matched']} matched{f' ({by})' if by else ''}, {a['already_imported']} already imported, "
            f"{a['unallocated']} unallocated, {a['rejected']} rejected"
        )
    elif kind == "allocated":
        r = what["receipt"]
        console.print(
            f"   waiting in /payments/unallocated: {r['amount']} {r['currency']} from {escape(r['payer'])} "
            f"(«{escape(r['purpose'])}»): {escape(r['reason'] or '')}"
        )
        recorded = len(what["answer"]["payments"])
        console.print(f"✋ the accountant allocates it by hand to {what['client']}: {recorded} payment recorded")
    elif kind == "tick":
        if what["emitted"]:
            console.print(
                f"⏰ scheduler {what['as_of']}: {what['emitted']} time events ({what['contracts']} contracts)"
            )
    elif kind == "ticket":
        cov = what["answer"]["coverage"]
        colour = {"covered": "green", "unpaid": "yellow", "not_covered": "red"}.get(cov["status"], "magenta")
        lines = [
            f"[bold]🎫 ticket {what['on']} — {what['client']}[/]",
            f"coverage: [{colour}]{cov['status']}[/]  total owed: {cov.get('total_owed')}",
        ]
        lines += [f"  ⚠ {w['code']}: {w['message']}" for w in cov.get("warnings", [])]
        console.print(Panel("\n".join(lines), expand=False))
    elif kind == "debtors":
        table = Table(title=f"Debtors on {what['on']}")
        for col in ("client", "owed", "periods (due, days overdue)"):
            table.add_column(col)
        for item in what["answer"]["items"]:
            periods = ", ".join(f"{p['due_on']} ({p['days_overdue']} d)" for p in item["periods"])
            table.add_row(item["client_name"], f"{item['total_owed']} {item['currency']}", periods)
        console.print(table)
    elif kind == "income":
        table = Table(title="Income by month (all clients in the database)")
        for col in ("month", "due", "received", "outstanding", "currency"):
            table.add_column(col, justify="right")
        for m in what["months"]:
            table.add_row(m["month"], m["due"], m["received"], m["outstanding"], m["currency"])
        console.print(table)


async def notifications_of(api: Abonent, client_id: str, settled: int) -> list[dict[str, Any]]:
    """The client's notifications once ``settled`` are recorded (the notifier works from Kafka,
    a moment behind), or what there is after 30 s."""
    deadline = time.monotonic() + 30
    notes: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        notes = (await api.notifications(client_id))["items"]
        if sum(1 for n in notes if n["status"] in ("sent", "skipped_late")) >= settled:
            break
        await asyncio.sleep(0.5)
    return notes


def notifications_table(title: str, notes: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in ("kind", "to", "subject", "status"):
        table.add_column(col)
    for n in sorted(notes, key=lambda n: (n.get("sent_at") or "", n["subject"])):
        table.add_row(n["kind"], ", ".join(n["recipients"]), n["subject"], n["status"])
    return table


async def show_mail(api: Abonent, story: Story, maildir: Path) -> None:
    romashka, gamma = story.clients["romashka"], story.clients["gamma"]
    notes = await notifications_of(api, romashka.id, settled=10)
    console.print(notifications_table(f"E-mails about {escape(romashka.name)} (from GET /notifications)", notes))
    mails = sorted((m for m in read_mailbox(maildir) if romashka.manager_email in m.to), key=lambda m: m.subject)
    reminders = [m for m in mails if m.subject.startswith("Напоминание")] or mails
    if reminders:
        console.print(
            Panel(
                escape(reminders[0].body.strip()[:900]),
                title=f"a reminder to the manager: {escape(reminders[0].subject)}",
                expand=False,
            )
        )
    late = await notifications_of(api, gamma.id, settled=7)
    console.print(
        notifications_table(f"{escape(gamma.name)}, entered late: old news recorded as skipped_late, not mailed", late)
    )


async def main() -> int:
    urls = {s.name: f"http://127.0.0.1:{s.default_port}" for s in SERVICES if s.default_port}
    env = dict(line.split("=", 1) for line in (DEFAULT_RUN_DIR / "stack.env").read_text().splitlines() if "=" in line)
    return await tell(urls, settings_from(DEFAULT_RUN_DIR / "stack.env"), Path(env["ABONENT_MAILDIR"]))


async def tell(urls: dict[str, str], auth: AuthSettings, maildir: Path) -> int:
    """Play the scenario against the services at ``urls`` and tell it (``maildir``: the SMTP sink's)."""
    api = Abonent.connect(urls, auth=auth)
    year = story_year()
    console.rule(f"[bold]Abonent — the reference scenario, year {year}")
    try:
        story = await play(api, year, say)
        for name in ("coverage_q1", "coverage_q2", "coverage_after_year"):
            console.print(
                f"{name}: "
                + json.dumps({k: story.answers[name][k] for k in ("on", "status", "total_owed")}, ensure_ascii=False)
            )
        await show_mail(api, story, maildir)
    finally:
        await api.close()
    console.rule("[bold]Where to look next")
    console.print(f"  [bold]console      {urls['console']}[/]   (sign in as a manager, accountant or dispatcher)")
    for name, url in urls.items():
        docs = "" if name == "scheduler" else f"{url}/docs   "  # the scheduler answers only probes and metrics
        console.print(f"  {name:<12} {docs}(health: {url}/health/ready, metrics: {url}/metrics)")
    console.print(f"  e-mails      {maildir}/*.eml")
    console.print("  AsyncAPI     docs/asyncapi/payments.v1.json (public feed), docs/asyncapi/contracts-internal.json")
    console.print("  stop         make down        (make clean also deletes data and mail)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
