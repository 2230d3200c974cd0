"""One definition of void: the read side's SQL condition is made from ``shared.owed`` and the
income views of the latest migration that defines them spell out the very same text."""

from pathlib import Path

from services.projections.adapters.reads import NOT_VOID
from shared.owed import not_void_sql

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "projections" / "migrations"


def test_the_queries_condition_comes_from_shared_owed() -> None:
    assert NOT_VOID == not_void_sql("p.starts_on", "c.terminated_on")
    assert NOT_VOID == "(c.terminated_on IS NULL OR p.starts_on < c.terminated_on)"


def test_the_income_views_mirror_it() -> None:
    latest = sorted(p for p in MIGRATIONS.glob("*.sql") if "period_income" in p.read_text())[-1]
    where = "WHERE " + not_void_sql("p.starts_on", "c.terminated_on").strip("()")
    # the template for new schemas and the live view: both say void as shared.owed does
    assert latest.read_text().count(where) == 2, latest.name


def test_the_debts_view_mirrors_it() -> None:
    """``period_debt_rows`` (migration 0008) keeps no void period, by the same text."""
    assert (MIGRATIONS / "0008_period_debts.sql").read_text().count(f"WHERE {NOT_VOID}") == 1
