"""The local stack's token secret: made once, kept in stack.env across `make up`s."""

from __future__ import annotations

from pathlib import Path

from deploy.local.api import auth_secret_of
from deploy.local.layout import RunDir
from shared.auth.settings import settings_from


def test_a_new_stack_gets_a_random_secret_and_a_running_one_keeps_its_own(tmp_path: Path):
    run = RunDir(tmp_path)
    first, second = auth_secret_of(run), auth_secret_of(run)
    assert len(first) >= 32 and first != second
    (tmp_path / "stack.env").write_text(f"ABONENT_KAFKA_BOOTSTRAP_SERVERS=x:1\nABONENT_AUTH_HS256_SECRET={first}\n")
    assert auth_secret_of(run) == first
    settings = settings_from(tmp_path / "stack.env")
    assert settings.hs256_secret is not None and settings.hs256_secret.get_secret_value() == first
    assert first not in repr(settings)
