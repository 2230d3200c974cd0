"""Bank statements for tests: a 1C client-bank exchange file or a CSV, built from payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

OUR_ACCOUNT = "40702810900000012345"


@dataclass(frozen=True)
class Doc:
    number: str
    amount: str
    payer_tax_id: str
    purpose: str
    on: date = date(2026, 4, 3)
    payer: str = 'ООО "Альфа"'
    payer_account: str = "40702810100000000777"
    kind: str = "Платежное поручение"


def fmt(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def exchange_1c(docs: list[Doc], *, end: bool = True, account: str = OUR_ACCOUNT) -> str:
    """The text of a 1C statement (encode it as the test needs: cp1251 is what banks send)."""
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "Отправитель=Бухгалтерия предприятия",
        "ДатаНачала=01.04.2026",
        "ДатаКонца=30.04.2026",
        f"РасчСчет={account}",
        "СекцияРасчСчет",
        "ДатаНачала=01.04.2026",
        f"РасчСчет={account}",
        "НачальныйОстаток=0.00",
        "КонецРасчСчет",
    ]
    for d in docs:
        lines += [
            f"СекцияДокумент={d.kind}",
            f"Номер={d.number}",
            f"Дата={fmt(d.on)}",
            f"Сумма={d.amount}",
            f"ПлательщикСчет={d.payer_account}",
            f"Плательщик1={d.payer}",
            f"ПлательщикИНН={d.payer_tax_id}",
            f"ПолучательСчет={account}",
            f"ДатаПоступило={fmt(d.on)}",
            f"НазначениеПлатежа={d.purpose}",
            "КонецДокумента",
        ]
    if end:
        lines.append("КонецФайла")
    return "\r\n".join(lines) + "\r\n"


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
