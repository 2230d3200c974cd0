"""From an ``Authorization`` header to a Principal, or an AuthFailure with a short reason.

PyJWT checks the signature with the configured key and its one algorithm, and ``iss``,
``aud``, ``exp``, ``nbf`` (and ``iat``) with a small leeway. The reasons are short phrases,
safe to answer and to log; the token itself is never put in either.

A token that verified is remembered (``VerifiedTokens``: a bounded LRU by token string), so
the many requests of one client with one token pay for the signature and the claims once.
What a token is worth does not change by it. There is no revocation list: a token is good
until its ``exp`` (plus the leeway), and a cached one is refused from then on like any other.
The one other way a token stops working, its signing key leaving the SSO's key set, is asked
on every use: the key source must still give the key that verified it (``JwksKeys`` fetches
the set again as before), else the token is verified afresh and refused if its key is gone.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    header: dict[str, Any]
    key: Any
    good_until: float
    """``exp`` + the leeway: PyJWT refuses the token from then on ("token expired")."""


class VerifiedTokens:
    """Tokens that verified, by token string, least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[str, _Verified] = OrderedDict()

    def get(self, token: str) -> _Verified | None:
        hit = self._items.get(token)
        if hit is not None:
            self._items.move_to_end(token)
        return hit

    def put(self, token: str, verified: _Verified) -> None:
        self._items[token] = verified
        self._items.move_to_end(token)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def drop(self, token: str) -> None:
        self._items.pop(token, None)

    def __len__(self) -> int:
        return len(self._items)


class Verifier:
    def __init__(
        self,
        settings: AuthSettings,
        keys: KeySource | None = None,
        *,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._keys = keys or key_source(settings)
        self._verified = VerifiedTokens(cache_size)
        self._clock = clock

    async def verify(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        hit = self._verified.get(token)
        if hit is not None:
            if self._clock() < hit.good_until and (await self._keys.key_for(hit.header))[0] is hit.key:
                return hit.principal
            self._verified.drop(token)  # expired, or its key rotated out: verified afresh (and refused)
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
        principal = principal_of(claims)
        good_until = int(claims["exp"]) + self._settings.leeway_seconds  # PyJWT: expired once exp <= now - leeway
        self._verified.put(token, _Verified(principal, header, key, good_until))
        return principal


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
