"""What the dispatcher is told when coverage is unknown or possibly stale."""

from __future__ import annotations

from datetime import date

from services.tickets.domain.coverage import COVERAGE_STALE, COVERAGE_UNKNOWN, noted, unknown_coverage
from tests.unit.tickets.tickets_helpers import NOW, snapshot


def test_unknown_coverage_says_why_and_what_to_do():
    s = unknown_coverage(date(2026, 5, 15), "the projections service did not answer within 300 ms", NOW)
    assert s.status == "unknown" and s.owed == () and s.totals == ()
    [w] = s.warnings
    assert w.code == COVERAGE_UNKNOWN
    assert "2026-05-15" in w.message and "300 ms" in w.message and "registered" in w.message


def test_a_stale_answer_gets_a_warning_once():
    stale = snapshot("covered").model_copy(update={"stale": True})
    once = noted(stale)
    assert [w.code for w in once.warnings] == [COVERAGE_STALE]
    assert noted(once) == once


def test_a_fresh_answer_is_left_as_it_is():
    fresh = snapshot("covered")
    assert noted(fresh) is fresh
