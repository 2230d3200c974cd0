"""From an ``Authorization`` header to a Principal, or an AuthFailure with a short reason.

PyJWT checks the signature with the configured key and its one algorithm, and ``iss``,
``aud``, ``exp``, ``nbf`` (and ``iat``) with a small leeway. The reasons are short phrases,
safe to answer and to log; the token itself is never put in either.
"""

from __future__ import annotations

import re
from typing import Any

import jwt

from shared.auth.keys import AuthFailure, KeySource, key_source
from shared.auth.principal import ROLES, Principal
from shared.auth.settings import AuthSettings

MAX_TOKEN_LENGTH = 8192
MAX_CLAIM_LENGTH = 256
_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*)$")

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
)


def bearer_token(authorization: str | None) -> str:
    """The token of ``Bearer <token>``; anything else (no scheme, two tokens, garbage) refused."""
    if not authorization:
        raise AuthFailure("missing bearer token")
    if len(authorization) > MAX_TOKEN_LENGTH:
        raise AuthFailure("malformed Authorization header")
    match = _BEARER.match(authorization.strip())
    if match is None:
        raise AuthFailure("malformed Authorization header")
    return match.group(1)


class Verifier:
    def __init__(self, settings: AuthSettings, keys: KeySource | None = None) -> None:
        self._settings = settings
        self._keys = keys or key_source(settings)

    async def verify(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthFailure("malformed token") from None
        key, algorithm = await self._keys.key_for(header)
        if header.get("alg") != algorithm:
            raise AuthFailure("algorithm not allowed")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise AuthFailure(f"claim {exc.claim} missing") from None
        except jwt.InvalidTokenError as exc:
            raise AuthFailure(
                next((reason for kind, reason in _REASONS if isinstance(exc, kind)), "malformed token")
            ) from None
        return principal_of(claims)


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLAIM_LENGTH:
        raise AuthFailure(f"claim {name} must be a non-empty string of at most {MAX_CLAIM_LENGTH} characters")
    return value


def principal_of(claims: dict[str, Any]) -> Principal:
    sub = _text(claims, "sub")
    assert sub is not None  # required by decode
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthFailure("claim roles must be a list of strings")
    return Principal(sub=sub, name=_text(claims, "name"), roles=frozenset(roles) & ROLES)
