"""PostgreSQL on the local stack: a password is required (scram-sha-256), and the pool honours
``sslmode`` in the database URL (the local server speaks no TLS, so ``require`` must fail)."""

from __future__ import annotations

import asyncio
import stat
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from deploy.local import postgres
from deploy.local.layout import RunDir, StackPorts
from services.projections.adapters.db import open_pool
from shared.db.pool import create_pool
from tests.support.tls import make_tls_files


def _with(url: str, *, password: str | None = None, query: str = "") -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.split("@", 1)[1]
    user = parts.username or ""
    userinfo = f"{user}:{password}" if password is not None else user
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc}", query=query))


@pytest.fixture
def managed(stack):
    if not stack.managed:
        pytest.skip("the stack's PostgreSQL was not started by deploy.local (its auth is not ours)")
    return stack


async def test_the_stack_url_carries_a_password_and_it_is_required(managed) -> None:
    url = managed.database_urls["contracts"]
    assert urlsplit(url).password
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT current_setting('password_encryption')") == "scram-sha-256"
        methods = {r["auth_method"] for r in await conn.fetch("SELECT auth_method FROM pg_hba_file_rules")}
        assert methods == {"scram-sha-256"}
    finally:
        await conn.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(_with(url, password="not-the-password"))
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.ClientCannotConnectError)):
        await asyncpg.connect(_with(url))  # no password at all


def test_the_password_and_the_urls_are_readable_by_their_owner_only(managed) -> None:
    run = RunDir(managed.run_dir)
    for path in (postgres.password_file(run), run.root / "stack.env", run.root / "stack.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "NOTIFY_SMTP_TLS=none" in (run.root / "stack.env").read_text()


@pytest.mark.parametrize("sslmode", ["disable", "prefer"])
async def test_sslmode_that_allows_plain_connects_to_a_plain_server(managed, sslmode) -> None:
    url = managed.database_urls["contracts"]
    pool = await create_pool(
        _with(url, password=urlsplit(url).password, query=f"sslmode={sslmode}"), min_size=1, max_size=1
    )
    try:
        assert await pool.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is False
    finally:
        await pool.close()


@pytest.mark.parametrize("sslmode", ["require", "verify-full"])
async def test_sslmode_that_demands_tls_refuses_a_plain_server(managed, sslmode, tmp_path) -> None:
    ca = make_tls_files(tmp_path).ca  # verify-full needs a root certificate to verify against
    plain = managed.database_urls["projections"]
    url = _with(plain, password=urlsplit(plain).password, query=f"sslmode={sslmode}&sslrootcert={ca}")
    with pytest.raises(ConnectionError, match="SSL"):
        await create_pool(url, min_size=1, max_size=1)
    with pytest.raises(ConnectionError, match="SSL"):  # the projections pool adds search_path, keeps sslmode
        await open_pool(url, min_size=1, max_size=1)


async def test_a_cluster_made_with_trust_by_an_older_launcher_is_switched_to_passwords(tmp_path) -> None:
    run, ports = RunDir(tmp_path / "run"), StackPorts.free()
    postgres._ensure_user(run)  # what the older launcher did: initdb --auth=trust, no password
    await asyncio.to_thread(
        postgres._run,
        [
            str(postgres.bindir() / "initdb"),
            "-D",
            str(postgres.data_dir(run)),
            "--auth=trust",
            f"--username={postgres.PG_USER}",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        "initdb",
    )
    assert postgres.uses_trust(run) and not postgres.password_file(run).exists()
    await asyncio.to_thread(postgres.start, run, ports)
    try:
        assert not postgres.uses_trust(run)
        conn = await asyncpg.connect(postgres.url(ports, "postgres", postgres.password(run)))
        await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://{postgres.PG_USER}@127.0.0.1:{ports.postgres}/postgres")
    finally:
        await asyncio.to_thread(postgres.stop, run)
