"""Making HS256 tokens: for people and tests (``python -m shared.auth mint``) and for one
service calling another (``ServiceToken``, minted again before it expires)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

import jwt

from shared.auth.principal import ROLES
from shared.auth.settings import AuthSettings

_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """``90``, ``90s``, ``15m``, ``8h``, ``2d`` -> a timedelta (ValueError otherwise)."""
    match = _TTL.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"ttl {text!r}: expected a positive number with s, m, h or d (e.g. 8h)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def mint(
    settings: AuthSettings,
    roles: Iterable[str],
    sub: str,
    *,
    ttl: timedelta = timedelta(hours=8),
    name: str | None = None,
    now: float | None = None,
) -> str:
    """A token the services accept, signed with the installation's HS256 secret."""
    if settings.hs256_secret is None:
        raise ValueError(
            "minting needs ABONENT_AUTH_HS256_SECRET; with an RSA/EC key or a JWKS "
            "URL, tokens come from the single sign-on"
        )
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles are {sorted(ROLES)}")
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": sub,
        "roles": roles,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, settings.hs256_secret.get_secret_value(), algorithm="HS256")


class ServiceToken:
    """A ``service``-role token for calls to another service: a static one from settings
    (installations whose SSO issues it), or minted from the shared secret and minted again
    when less than a quarter of its lifetime is left."""

    def __init__(
        self,
        settings: AuthSettings | None,
        sub: str,
        *,
        static: str | None = None,
        ttl: timedelta = timedelta(minutes=15),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if static is None and (settings is None or settings.hs256_secret is None):
            raise ValueError(
                f"{sub} needs a token for the services it calls: set its static "
                "token setting, or ABONENT_AUTH_HS256_SECRET to mint one"
            )
        self._settings, self._sub, self._static, self._ttl, self._clock = settings, sub, static, ttl, clock
        self._token: str | None = None
        self._renew_at = 0.0

    def __call__(self) -> str:
        if self._static is not None:
            return self._static
        now = self._clock()
        if self._token is None or now >= self._renew_at:
            assert self._settings is not None
            self._token = mint(self._settings, ["service"], self._sub, ttl=self._ttl, now=now)
            self._renew_at = now + self._ttl.total_seconds() * 0.75
        return self._token
