"""Wire types at the edge (issue 15): text without control characters, dates within
1900-2199, page bounds — each refusal a 422 rule, never a 500 further in."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.dates import DATE_PATTERN, MONTH_PATTERN, IsoDate, YearMonth
from shared.http.paging import MAX_PAGE, MAX_PAGE_SIZE, next_page, offset, slice_page
from shared.text import text


class Body(BaseModel):
    name: Annotated[str, text(10)]
    note: Annotated[str, text(20, min_length=0, multiline=True)] = ""


def rule(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Body(**values)
    return caught.value.errors()[0]["type"]


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07", "\x1b[31m", "a\x7f", "a\x85", "a\u202eb", "a\nb", "a\tb"])
def test_one_line_text_refuses_control_characters(bad: str) -> None:
    assert rule(name=bad) == "control_character"


def test_multi_line_text_keeps_tabs_and_line_breaks_but_not_nul() -> None:
    assert Body(name="a", note=" one\r\n\ttwo ").note == "one\r\n\ttwo"
    assert rule(name="a", note="one\x00") == "control_character"


def test_length_counts_what_was_sent_and_blank_is_empty() -> None:
    assert Body(name=" Ромашка ").name == "Ромашка"
    assert rule(name="a" + " " * 10) == "string_too_long"
    assert rule(name="   ") == "string_too_short"


def test_the_documented_pattern_agrees_with_the_check() -> None:
    pattern = Body.model_json_schema()["properties"]["name"]["pattern"]
    for value in ("Ромашка", "a\x00", "a\u202e", "tab\t"):
        documented = re.fullmatch(pattern, value) is not None
        try:
            Body(name=value)
            accepted = True
        except ValidationError:
            accepted = False
        assert documented == accepted, value


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1900-01-01", "ok"),
        ("2199-12-31", "ok"),
        ("1899-12-31", "date_out_of_range"),
        ("2200-01-01", "date_out_of_range"),
        ("9999-12-31", "date_out_of_range"),
        ("0000-01-01", "date_invalid"),
        ("1699920000", "date_format"),
    ],
)
def test_dates_are_bounded(value: str, expected: str) -> None:
    adapter = TypeAdapter(IsoDate)
    try:
        adapter.validate_python(value)
        got = "ok"
    except ValidationError as exc:
        got = exc.errors()[0]["type"]
    assert got == expected
    assert (re.fullmatch(DATE_PATTERN, value) is not None) == (expected == "ok")


@pytest.mark.parametrize("value", ["0000-01", "1899-12", "2200-01"])
def test_months_are_bounded(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(YearMonth).validate_python(value)
    assert re.fullmatch(MONTH_PATTERN, value) is None
    assert TypeAdapter(YearMonth).validate_python("2199-12") == date(2199, 12, 1)


def test_the_largest_page_still_fits_a_bigint_offset() -> None:
    assert offset(MAX_PAGE, MAX_PAGE_SIZE) < 2**63
    assert next_page(MAX_PAGE, 10, 11) is None and next_page(1, 10, 11) == 2 and next_page(1, 10, 10) is None
    assert slice_page(list(range(5)), 2, 2) == ([2, 3], 3)
    assert slice_page(list(range(5)), 3, 2) == ([4], None)
    assert slice_page(list(range(5)), 9, 2) == ([], None)
