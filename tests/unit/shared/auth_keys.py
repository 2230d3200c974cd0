"""Keys and tokens for the auth tests: an HS256 installation, an RSA and an EC key pair."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import AuthSettings


def only(**source: Any) -> AuthSettings:
    """Settings with just this key source (the test session's environment has an HS256 one)."""
    return AuthSettings(
        **{"hs256_secret": None, "public_key_file": None, "jwks_url": None, "leeway_seconds": 5, **source}
    )


SECRET = "s" * 48
HS = AuthSettings(hs256_secret=SECRET, issuer="abonent", audience="abonent", leeway_seconds=5)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": "abonent",
        "aud": "abonent",
        "sub": "irina",
        "roles": ["manager"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def signed(key: Any = SECRET, algorithm: str = "HS256", headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers=headers)


def unsigned(**overrides: Any) -> str:
    """An ``alg: none`` token (PyJWT still writes them when asked)."""
    return jwt.encode(claims(**overrides), "", algorithm="none")  # "none" takes no key
