"""``python -m bench.statements [--payments 100000]``: import a large bank statement.

Starts its own PostgreSQL (on a free port, in a temp dir, stopped and deleted at the end; no
Kafka: an import writes events and outbox rows, the relay is not what is measured), registers
``--payers`` clients with a tax id and a contract of 12 monthly periods each through the
contracts application, writes a 1C client-bank exchange file (Windows-1251) of ``--payments``
documents, and imports it the way ``python -m services.contracts.entrypoints.cli
import-statement`` does (both passes: the check, then matching and recording). Then the same
file again (everything already imported).

Mix: 75 % pay a contract named in the purpose (``contract_number``: one receipt each), 20 %
come from payers nobody knows (kept unallocated), 5 % are money out; one in a thousand has an
unreadable amount (rejected). Memory: the process's RSS sampled every 0.2 s during the import
(it must stay flat: the file is streamed, never held).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console

from bench.tools import own_postgres, with_database
from deploy.local import postgres
from services.contracts.application.commands import ContractsApplication
from services.contracts.application.statements import ImportReport, check
from services.contracts.bootstrap import contracts_application, statement_import
from services.contracts.domain import commands as cmd
from services.contracts.entrypoints.cli import file_source
from services.contracts.settings import ContractsSettings
from shared.auth.settings import AuthSettings
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.records import CommandContext

OURS = "40702810900000012345"
console = Console()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(rss_mb())
            time.sleep(self.every)


def settings(dsn: str) -> ContractsSettings:
    """The contracts settings the import is built from; it serves no request, so any token key does."""
    return ContractsSettings(database_url=dsn, auth=AuthSettings(hs256_secret=secrets.token_hex(32)))


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid.uuid4()), actor="bench", now=datetime.now(UTC))


def tax_id(i: int) -> str:
    return f"77{i:08d}"


async def seed(app: ContractsApplication, payers: int) -> list[str]:
    """``payers`` clients with a tax id and one contract of 12 monthly periods of 100 000 RUB."""
    numbers = [f"BS-{i:05d}" for i in range(payers)]
    slots = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with slots:
            client_id, contract_id = uuid.uuid4(), uuid.uuid4()
            await app.handle_client(
                cmd.RegisterClient(client_id, f"ООО Плательщик {i}", "Manager", f"m{i}@example.com", tax_id(i)), ctx()
            )
            await app.handle_contract(
                cmd.OpenContract(contract_id, client_id, numbers[i], "service", date(2025, 12, 1)), ctx()
            )
            await app.handle_contract(
                cmd.SchedulePeriods(
                    contract_id,
                    [uuid.uuid4() for _ in range(12)],
                    date(2026, 1, 1),
                    date(2026, 12, 31),
                    "month",
                    Decimal("100000.00"),
                    "RUB",
                    "prepaid",
                ),
                ctx(),
            )

    await asyncio.gather(*(one(i) for i in range(payers)))
    return numbers


def write_statement(path: Path, payments: int, numbers: list[str]) -> int:
    """A 1C file of ``payments`` documents; returns its number of text lines."""
    lines = 0
    with path.open("w", encoding="cp1251", newline="\r\n") as f:
        f.write(
            "1CClientBankExchange\nВерсияФормата=1.03\nКодировка=Windows\nДатаНачала=01.03.2026\n"
            f"ДатаКонца=31.03.2026\nРасчСчет={OURS}\nСекцияРасчСчет\nРасчСчет={OURS}\nКонецРасчСчет\n"
        )
        lines += 9
        for i in range(payments):
            kind = i % 20
            day = f"{1 + i % 28:02d}.03.2026"
            amount = "1O00" if i % 1000 == 500 else "1000.00"
            if kind < 15:
                payer = i % len(numbers)
                tax, purpose = tax_id(payer), f"Оплата по договору {numbers[payer]} за март"
            else:
                tax, purpose = f"78{i:08d}", "Оплата по счету без номера"
            payer_account, recipient = ("40702810100000000777", OURS) if kind < 19 else (OURS, "40702810200000000888")
            f.write(
                f"СекцияДокумент=Платежное поручение\nНомер={i}\nДата={day}\nСумма={amount}\n"
                f"ПлательщикСчет={payer_account}\nПлательщик1=ООО Плательщик\nПлательщикИНН={tax}\n"
                f"ПолучательСчет={recipient}\nДатаПоступило={day}\nНазначениеПлатежа={purpose}\nКонецДокумента\n"
            )
            lines += 11
        f.write("КонецФайла\n")
    return lines + 1


@dataclass
class Measured:
    report: ImportReport
    seconds: float
    cpu_seconds: float
    """CPU of this process (parsing, deciding, encoding); PostgreSQL's is not in it."""
    rss: list[float]
    at_progress: list[tuple[int, float]]


async def measure_import(dsn: str, path: Path) -> Measured:
    """The CLI's import (``cli.import_file``) with a progress hook that notes the RSS."""
    pool = await create_pool(dsn, min_size=1, max_size=4)
    try:
        service = statement_import(pool, contracts_application(pool, settings(dsn), 0))
        source = file_source(path)
        sampler = RssSampler()
        sampler.start()
        done = 0
        noted: list[tuple[int, float]] = []

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if done % 10_000 < n:
                noted.append((done, rss_mb()))

        start, cpu = time.perf_counter(), time.process_time()
        checked = await asyncio.to_thread(check, source)
        report = await service.run(source, ctx(), date(2026, 12, 31), progress=progress, checked=checked)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        sampler.stopping.set()
        sampler.join()
        return Measured(report, seconds, cpu, sampler.samples, noted)
    finally:
        await pool.close()


async def bench(dsn: str, payments: int, payers: int, work: Path) -> None:
    await apply_migrations(dsn, migrations_dir("contracts"))
    pool = await create_pool(dsn, min_size=1, max_size=8)
    try:
        started = time.perf_counter()
        numbers = await seed(contracts_application(pool, settings(dsn), 0), payers)
        console.print(f"seeded {payers:,} payers in {time.perf_counter() - started:.1f} s")
    finally:
        await pool.close()
    path = work / "statement.txt"
    text_lines = write_statement(path, payments, numbers)
    size = path.stat().st_size / 1024 / 1024
    console.print(f"statement: {payments:,} payments, {text_lines:,} text lines, {size:.1f} MB")
    for label in ("first import", "same file again"):
        m = await measure_import(dsn, path)
        r = m.report
        console.print(
            f"[bold]{label}[/]: {m.seconds:.1f} s = {r.payments / m.seconds:,.0f} payments/s "
            f"({text_lines / m.seconds:,.0f} text lines/s); matched {r.matched:,}, already {r.already_imported:,}, "
            f"unallocated {r.unallocated:,}, rejected {r.rejected:,}, outgoing {r.outgoing:,}; "
            f"importer CPU {m.cpu_seconds:.1f} s = {1000 * m.cpu_seconds / r.payments:.2f} ms per payment"
        )
        console.print(
            f"  RSS MB: before {m.rss[0]:.0f}, peak {max(m.rss):.0f}; by payments done: "
            + ", ".join(f"{d // 1000}k {mb:.0f}" for d, mb in m.at_progress)
        )


def main(
    payments: int = typer.Option(100_000, help="documents in the statement"),
    payers: int = typer.Option(2_000, help="clients with a tax id and a contract"),
) -> None:
    with own_postgres("statements") as (work, server):
        asyncio.run(postgres.create_databases(server, ["contracts"]))
        asyncio.run(bench(with_database(server, "contracts"), payments, payers, work))


if __name__ == "__main__":
    typer.run(main)
