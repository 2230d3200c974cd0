"""Reading bank statements (issue 17): the 1C client-bank exchange format and CSV, pure and
streaming; bad input named by its line, the other lines unaffected."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.contracts.domain.statements.decoding import open_text
from services.contracts.domain.statements.lines import BankLine, LineRejected, Outgoing, StatementUnreadable
from services.contracts.domain.statements.parse import read_statement
from tests.support.statements import OUR_ACCOUNT, Doc, csv_text, exchange_1c

EXAMPLE = """1CClientBankExchange
ВерсияФормата=1.03
Кодировка=Windows
ДатаНачала=02.06.2025
ДатаКонца=02.06.2025
РасчСчет=40702810900000012345
СекцияРасчСчет
ДатаНачала=02.06.2025
РасчСчет=40702810900000012345
НачальныйОстаток=1000.00
КонечныйОстаток=21200.5
КонецРасчСчет
СекцияДокумент=Платежное поручение
Номер=57
Дата=30.05.2025
Сумма=20000
ПлательщикСчет=40702810100000000777
Плательщик1=ООО "Альфа"
ПлательщикИНН=7701000001
ПолучательСчет=40702810900000012345
ДатаПоступило=02.06.2025
НазначениеПлатежа=Оплата по счету 15
КонецДокумента
СекцияДокумент=Банковский ордер
Номер=9
Дата=02.06.2025
Сумма=500.5
ПлательщикСчет=30232810000000000001
ПолучательСчет=40702810900000012345
ДатаСписано=02.06.2025
НазначениеПлатежа=СБП, счет 16
КонецДокумента
СекцияДокумент=Платежное поручение
Номер=12
Дата=02.06.2025
Сумма=300.00
ПлательщикСчет=40702810900000012345
ДатаСписано=02.06.2025
ДатаПоступило=
ПолучательСчет=40702810200000000888
НазначениеПлатежа=Аренда
КонецДокумента
КонецФайла
"""


def items(data: bytes, chunk: int = 7):
    """Parse ``data`` fed in small pieces (lines and characters cut across pieces)."""
    statement = read_statement(data[i : i + chunk] for i in range(0, len(data), chunk))
    return statement, list(statement.items)


def test_the_example_reads_two_payments_in_and_one_out():
    statement, parsed = items(EXAMPLE.encode("cp1251"))
    assert (statement.format, statement.encoding) == ("1c", "cp1251")
    alfa, sbp, rent = parsed
    assert isinstance(alfa, BankLine) and isinstance(sbp, BankLine)
    assert (alfa.line, alfa.document_number, alfa.amount, alfa.currency) == (13, "57", Decimal("20000"), "RUB")
    assert (alfa.document_date, alfa.booked_on) == (date(2025, 5, 30), date(2025, 6, 2))
    assert (alfa.payer, alfa.payer_tax_id, alfa.purpose) == ('ООО "Альфа"', "7701000001", "Оплата по счету 15")
    # an SBP bank order booked by its debit date only (Tinkoff does so), no payer tax id
    assert (sbp.amount, sbp.booked_on, sbp.payer_tax_id, sbp.purpose) == (
        Decimal("500.5"),
        date(2025, 6, 2),
        None,
        "СБП, счет 16",
    )
    assert rent == Outgoing(33)


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig", "cp866"])
def test_every_encoding_banks_use_reads_the_same(encoding):
    text = EXAMPLE.replace("Кодировка=Windows", "Кодировка=DOS") if encoding == "cp866" else EXAMPLE
    statement, parsed = items(text.encode(encoding), chunk=4096)
    assert statement.encoding == ("utf-8" if encoding == "utf-8-sig" else encoding)
    assert [p.payer for p in parsed if isinstance(p, BankLine)] == ['ООО "Альфа"', ""]


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_line_ends_of_every_kind_number_the_lines_alike(eol):
    _, parsed = items(EXAMPLE.replace("\n", eol).encode("cp1251"), chunk=3)
    assert [p.line for p in parsed] == [13, 24, 33]


def test_keys_are_case_insensitive_values_keep_equals_signs_and_blank_lines_pass():
    text = EXAMPLE.replace("ПлательщикИНН=", "плательщикинн=").replace(
        "НазначениеПлатежа=Оплата по счету 15", '\nНазначениеПлатежа=Оплата по счету 15 = 20000 руб "без НДС"'
    )
    _, parsed = items(text.encode("cp1251"))
    assert parsed[0].payer_tax_id == "7701000001"
    assert parsed[0].purpose == 'Оплата по счету 15 = 20000 руб "без НДС"'


def test_purpose_lines_are_joined_when_the_full_purpose_is_missing():
    text = EXAMPLE.replace(
        "НазначениеПлатежа=Оплата по счету 15", "НазначениеПлатежа1=Оплата по\nНазначениеПлатежа2=счету 15"
    )
    _, parsed = items(text.encode("cp1251"))
    assert parsed[0].purpose == "Оплата по счету 15"


def test_a_truncated_file_is_refused_whole_naming_where_it_ends():
    text = exchange_1c([Doc("1", "100.00", "7701000001", "x"), Doc("2", "200.00", "7701000001", "y")], end=False)
    cut = text[: text.rindex("КонецДокумента")]
    with pytest.raises(StatementUnreadable) as refused:
        items(cut.encode("cp1251"))
    assert refused.value.rule == "truncated"
    assert "starts on line 24" in refused.value.message and refused.value.line == cut.count("\n")
    with pytest.raises(StatementUnreadable, match="no КонецФайла"):
        items(text.encode("cp1251"))


def test_another_encoding_is_refused_as_such():
    with pytest.raises(StatementUnreadable) as koi8:
        items(EXAMPLE.encode("koi8-r"))
    assert (koi8.value.rule, koi8.value.line) == ("encoding_unreadable", 2)
    with pytest.raises(StatementUnreadable) as utf16:
        items(EXAMPLE.encode("utf-16"))
    assert utf16.value.rule == "encoding_unsupported" and "UTF-16" in utf16.value.message


def test_a_bad_amount_or_date_rejects_that_document_and_names_its_line():
    docs = [
        Doc("1", "100.00", "7701000001", "a"),
        Doc("2", "12,5O", "7701000001", "b"),
        Doc("3", "300", "7701000001", "c"),
    ]
    text = exchange_1c(docs).replace("Дата=03.04.2026\r\nСумма=300", "Дата=31.02.2026\r\nСумма=300")
    _, parsed = items(text.encode("cp1251"))
    first, bad_amount, bad_date = parsed
    assert isinstance(first, BankLine) and first.amount == Decimal("100.00")
    assert bad_amount == LineRejected(
        27,
        "invalid_amount",
        'Сумма "12,5O" is not an amount (digits, a point and at most two decimals, such as 1000.00)',
    )
    assert bad_date == LineRejected(37, "invalid_date", 'Дата "31.02.2026" is not a date (dd.mm.yyyy)')


def test_a_document_without_its_end_is_rejected_and_the_next_one_read():
    text = exchange_1c([Doc("1", "100", "7701000001", "a"), Doc("2", "200", "7701000001", "b")])
    text = text.replace("КонецДокумента\r\n", "", 1)
    _, parsed = items(text.encode("cp1251"))
    assert parsed[0] == LineRejected(13, "unterminated_document", "the document has no КонецДокумента")
    assert isinstance(parsed[1], BankLine) and parsed[1].document_number == "2"


def test_a_file_that_is_not_a_statement_is_refused():
    for data, rule in [
        (b"", "empty"),
        (b"hello world\n", "unknown_format"),
        (b"\x00\x01binary", "encoding_unsupported"),
    ]:
        with pytest.raises(StatementUnreadable) as refused:
            items(data)
        assert refused.value.rule == rule


def test_a_line_without_an_end_is_refused_not_read_into_memory():
    with pytest.raises(StatementUnreadable) as refused:
        list(open_text(iter([b"x" * 40_000] * 3))[1])
    assert refused.value.rule == "line_too_long"


def test_the_same_document_has_the_same_id_in_every_export():
    one = items(exchange_1c([Doc("57", "20000", "7701000001", "Q2")]).encode("cp1251"))[1][0]
    again = items(exchange_1c([Doc("57", "20000.00", "7701000001", "Q2 again")]).encode("utf-8"))[1][0]
    other = items(exchange_1c([Doc("57", "20000", "7701000002", "Q2")]).encode("cp1251"))[1][0]
    assert one.id == again.id != other.id
    assert one.reference == "bank 57 of 2026-04-03 from 7701000001"


# --- CSV ----------------------------------------------------------------------------------


def test_a_csv_reads_its_rows_in_any_column_order_and_delimiter():
    rows = [Doc("5", "1500.50", "7701000001", "по договору AB-1, с запятой"), Doc("6", "-100", "7701000001", "out")]
    _, parsed = items(csv_text(rows).encode("utf-8"))
    assert isinstance(parsed[0], BankLine)
    assert (parsed[0].line, parsed[0].amount, parsed[0].purpose) == (
        2,
        Decimal("1500.50"),
        "по договору AB-1, с запятой",
    )
    assert parsed[1] == Outgoing(3)
    text = (
        "purpose;document_number;amount;currency;date;payer_tax_id;payer\nQ2;7;1500,5;RUB;03.04.2026;7701000001;Альфа\n"
    )
    statement, [row] = items(text.encode("cp1251"))
    assert (statement.format, statement.encoding) == ("csv", "cp1251")
    assert (row.amount, row.booked_on, row.payer) == (Decimal("1500.5"), date(2026, 4, 3), "Альфа")


def test_a_csv_without_its_columns_is_refused_naming_them():
    with pytest.raises(StatementUnreadable) as refused:
        items(b"date,amount,payer\n2026-04-03,100,x\n")
    assert refused.value.rule == "missing_columns" and refused.value.line == 1
    assert "currency, payer_tax_id, purpose, document_number" in refused.value.message


def test_bad_csv_rows_are_rejected_with_their_line_the_others_read():
    text = csv_text(
        [Doc("1", "100", "7701000001", "a"), Doc("2", "1O0", "7701000001", "b"), Doc("3", "300", "7701000001", "c")]
    )
    text = text.replace("2026-04-03,300", "2026-13-03,300") + "2026-04-03,5\n" + "2026-04-03,7,XYZ,p,7701000001,q,8\n"
    _, parsed = items(text.encode("utf-8"))
    assert [type(p).__name__ for p in parsed] == [
        "BankLine",
        "LineRejected",
        "LineRejected",
        "LineRejected",
        "LineRejected",
    ]
    assert [(p.line, p.rule) for p in parsed[1:]] == [
        (3, "invalid_amount"),
        (4, "invalid_date"),
        (5, "missing_fields"),
        (6, "invalid_currency"),
    ]


def test_a_quoted_purpose_over_two_lines_keeps_the_numbering():
    text = (
        "date,amount,currency,payer,payer_tax_id,purpose,document_number\n"
        '2026-04-03,1,RUB,a,7701000001,"one\ntwo",1\n'
        "2026-04-03,x,RUB,a,7701000001,p,2\n"
    )
    _, parsed = items(text.encode())
    assert parsed[0].purpose == "one\ntwo" and parsed[1] == LineRejected(
        4, "invalid_amount", 'amount "x" is not an amount (such as 1000.00)'
    )


def test_our_account_is_the_statements():
    _, [line] = items(exchange_1c([Doc("1", "100", "7701000001", "a")]).encode("cp1251"))
    assert line.account == OUR_ACCOUNT
