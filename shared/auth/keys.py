"""The key that may have signed a token, and the one algorithm that key allows.

The algorithm follows from the configured key, never from the token: an HS256 secret
allows HS256; an RSA key RS256; an EC key ES256/ES384/ES512 by its curve. So ``alg: none``
and algorithm confusion (a public key used as an HMAC secret) cannot verify.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from prometheus_client import Counter

from shared.auth.settings import AuthSettings
from shared.logging import get_logger

log = get_logger("auth.keys")

JWKS_FETCH_FAILURES = Counter("auth_jwks_fetch_failures_total", "JWKS fetches that failed, by reason", ["reason"])
JWKS_FETCHES = Counter("auth_jwks_fetches_total", "JWKS fetches that succeeded")

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class AuthFailure(Exception):
    """A token was refused; ``reason`` is short and safe to show and log (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeySource(Protocol):
    async def key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        """(verification key, the algorithm it allows) for a token with this header."""
        ...


def algorithm_of(public_key: Any) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[public_key.curve.name]
    raise ValueError(f"unsupported public key type {type(public_key).__name__}: use RSA or EC (P-256/384/521)")


class FixedKey:
    """One key from settings: the HS256 secret, or a PEM public key file."""

    def __init__(self, key: Any, algorithm: str) -> None:
        self._key, self._algorithm = key, algorithm

    @classmethod
    def from_file(cls, path: Path) -> FixedKey:
        try:
            public_key = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"ABONENT_AUTH_PUBLIC_KEY_FILE={path}: not a readable PEM public key ({type(exc).__name__})"
            ) from None
        return cls(public_key, algorithm_of(public_key))

    async def key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        return self._key, self._algorithm


class JwksKeys:
    """The SSO's key set, fetched on first use, kept ``cache_seconds``, fetched again when a
    token names a ``kid`` it does not hold (at most once per ``min_refresh_seconds``, so
    random kids cannot hammer the SSO). When the URL does not answer, keys already held keep
    working; a new ``kid`` gets 401 ("signing keys unavailable"), a counter and a log line."""

    def __init__(
        self, url: str, *, cache_seconds: float = 300.0, min_refresh_seconds: float = 30.0, timeout: float = 2.0
    ) -> None:
        self._url, self._cache, self._min_refresh, self._timeout = url, cache_seconds, min_refresh_seconds, timeout
        self._keys: dict[str | None, tuple[Any, str]] = {}
        self._fetched_at = 0.0
        self._tried_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        kid = header.get("kid")
        fresh = time.monotonic() - self._fetched_at < self._cache
        if not (fresh and self._lookup(kid)):
            await self._refresh(kid)
        found = self._lookup(kid)
        if found is None:
            raise AuthFailure("unknown signing key" if kid is not None or self._keys else "signing keys unavailable")
        return found

    def _lookup(self, kid: str | None) -> tuple[Any, str] | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    async def _refresh(self, kid: str | None) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._lookup(kid) and now - self._fetched_at < self._cache:
                return  # another request fetched it meanwhile
            if now - self._tried_at < self._min_refresh:
                if self._lookup(kid) is None and not self._keys:
                    raise AuthFailure("signing keys unavailable")
                return
            self._tried_at = now
            try:
                self._keys = await self._fetch()
                self._fetched_at = time.monotonic()
                JWKS_FETCHES.inc()
            except AuthFailure as exc:
                JWKS_FETCH_FAILURES.labels(exc.reason).inc()
                log.warning(
                    "JWKS fetch failed: tokens signed with keys not held are refused",
                    url=self._url,
                    reason=exc.reason,
                    keys_held=len(self._keys),
                )
                if self._lookup(kid) is None:
                    raise AuthFailure("signing keys unavailable") from None

    async def _fetch(self) -> dict[str | None, tuple[Any, str]]:
        # imported here: httpx (with its CLI's click) costs a process ~3 MB of RSS, and only a
        # service configured with a JWKS URL ever fetches
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.get(self._url, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise AuthFailure("timeout") from None
        except httpx.HTTPError as exc:
            raise AuthFailure(f"unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise AuthFailure(f"HTTP {response.status_code}")
        try:
            document = response.json()
            entries = document["keys"]
            assert isinstance(entries, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise AuthFailure("not a JWKS document") from None
        keys: dict[str | None, tuple[Any, str]] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC") or entry.get("use", "sig") != "sig":
                continue  # symmetric ("oct") keys in a public set would allow HMAC confusion
            try:
                public_key = jwt.PyJWK(entry).key
                algorithm = algorithm_of(public_key)
            except (jwt.PyJWKError, ValueError):
                continue
            if entry.get("alg") not in (None, algorithm):
                continue
            keys[entry.get("kid")] = (public_key, algorithm)
        if not keys:
            raise AuthFailure("no usable RSA/EC signing keys")
        return keys


def key_source(settings: AuthSettings) -> KeySource:
    if settings.hs256_secret is not None:
        return FixedKey(settings.hs256_secret.get_secret_value(), "HS256")
    if settings.public_key_file is not None:
        return FixedKey.from_file(settings.public_key_file)
    assert settings.jwks_url is not None
    return JwksKeys(
        settings.jwks_url,
        cache_seconds=settings.jwks_cache_seconds,
        min_refresh_seconds=settings.jwks_min_refresh_seconds,
        timeout=settings.jwks_timeout_seconds,
    )
