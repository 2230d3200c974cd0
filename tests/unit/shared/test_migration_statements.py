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


def test_every_event_store_database_applies_the_event_store_schema_from_its_one_file() -> None:
    """The event store's schema is written once, in ``shared/eventstore/sql``; the contracts and
    tickets databases apply each of its files through a link under their own version numbers
    (copies drifted apart is what a link rules out)."""
    repo = Path(__file__).resolve().parents[3]
    schema = sorted((repo / "shared/eventstore/sql").glob("*.sql"))
    assert schema
    for service in ("contracts", "tickets"):
        linked = sorted(
            path.resolve() for path in (repo / "services" / service / "migrations").glob("*.sql") if path.is_symlink()
        )
        assert linked == schema, service
