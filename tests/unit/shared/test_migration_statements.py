"""A no-transaction migration runs one statement at a time: how a file is cut into statements."""

from pathlib import Path

from shared.db.migrations import NO_TRANSACTION, Migration, statements

SQL = """-- why; with a semicolon in the comment
DROP INDEX CONCURRENTLY IF EXISTS a_idx;
CREATE INDEX CONCURRENTLY a_idx ON t (name) WHERE name <> ';' /* ; */;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; $fn$;
COMMENT ON TABLE "odd;name" IS 'it''s; fine'
-- trailing comment;
"""


def test_statements_are_cut_at_semicolons_outside_quotes_comments_and_bodies() -> None:
    assert statements(f"{NO_TRANSACTION}\n{SQL}") == [
        f"{NO_TRANSACTION}\n-- why; with a semicolon in the comment\nDROP INDEX CONCURRENTLY IF EXISTS a_idx;",
        "CREATE INDEX CONCURRENTLY a_idx ON t (name) WHERE name <> ';' /* ; */;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; $fn$;",
        "COMMENT ON TABLE \"odd;name\" IS 'it''s; fine'\n-- trailing comment;",
    ]
    assert statements("-- only a comment;\n") == []


def test_the_marker_on_the_first_line_makes_a_file_run_outside_a_transaction() -> None:
    path = Path("0009_x.sql")
    assert not Migration(
        "0009_x", path, f"{NO_TRANSACTION}\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "c"
    ).transactional
    assert Migration("0009_x", path, "CREATE INDEX i ON t (a);\n", "c").transactional
    assert Migration("0009_x", path, f"-- note\n{NO_TRANSACTION}\n", "c").transactional  # first line only


def test_every_event_store_database_gets_the_same_append_function() -> None:
    """``eventstore_append`` is one function in three files (the event store's own schema for
    tests, and the contracts and tickets databases): they must not drift apart."""
    repo = Path(__file__).resolve().parents[3]
    copies = [
        repo / "shared/eventstore/sql/0004_append_function.sql",
        repo / "services/contracts/migrations/0009_append_function.sql",
        repo / "services/tickets/migrations/0007_append_function.sql",
    ]
    assert len({path.read_text() for path in copies}) == 1
