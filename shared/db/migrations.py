"""Forward-only SQL migrations: ``services/<name>/migrations/NNNN_description.sql``.

A small runner rather than yoyo or alembic: the project talks to PostgreSQL only through
asyncpg, its migrations are plain SQL files applied forwards, and a second driver (psycopg)
plus a migration framework would be more to install and learn than the 60 lines here.

Each file runs in its own transaction together with its row in ``schema_migrations``; a
session advisory lock makes two starters (the launcher and a service's lifespan, or two
replicas) take turns; a file whose content changed after it was applied is refused.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK = 0x0AB0_0D8  # "abonent migrations"
REPO = Path(__file__).resolve().parents[2]


class MigrationError(Exception):
    pass


def migrations_dir(service: str) -> Path:
    return REPO / "services" / service / "migrations"


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    for p in files:
        if not _FILE.match(p.name):
            raise MigrationError(f"{p}: migration files are named NNNN_description.sql")
    return files


async def apply_migrations(dsn: str, directory: Path) -> list[str]:
    """Apply what is new in ``directory``; return the versions applied now."""
    conn = await asyncpg.connect(dsn)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(),
                   checksum text NOT NULL)""")
        done = {r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")}
        for path in _files(directory):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            version = path.stem
            if version in done:
                if done[version] != checksum:
                    raise MigrationError(
                        f"{path.name} changed after it was applied; add a new migration instead of editing it")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                                   version, checksum)
            applied_now.append(version)
    finally:
        await conn.close()  # closing the session releases the advisory lock
    return applied_now
