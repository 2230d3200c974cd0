"""Bearer tokens for tests, signed with the session's secret (tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.auth import AuthSettings, mint


def token(
    *roles: str,
    sub: str | None = None,
    name: str | None = None,
    settings: AuthSettings | None = None,
    ttl: timedelta = timedelta(hours=2),
) -> str:
    settings = settings or AuthSettings()
    return mint(settings, roles, sub or f"test-{roles[0]}", name=name, ttl=ttl)


def bearer(*roles: str, **kwargs: Any) -> dict[str, str]:
    """``headers=bearer("manager")`` for one request as someone else than the client's default."""
    return {"Authorization": f"Bearer {token(*roles, **kwargs)}"}


def app_token(app: Any, role: str, sub: str | None = None) -> str | None:
    """A token the app accepts, when it verifies with an HS256 secret (else None)."""
    settings = getattr(getattr(app, "state", None), "auth_settings", None)
    if not isinstance(settings, AuthSettings) or settings.hs256_secret is None:
        return None
    return token(role, sub=sub, settings=settings)
