"""Where the keys that sign bearer tokens come from (prefix ``ABONENT_AUTH_``).

Exactly one key source: ``HS256_SECRET`` (a shared secret, small installations and the
local stack), ``PUBLIC_KEY_FILE`` (an RSA or EC public key in PEM, a company's single
sign-on) or ``JWKS_URL`` (the SSO's key set, cached and fetched again on an unknown ``kid``).
The allowed algorithms follow from the key's type, never from the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_SOURCES = ("ABONENT_AUTH_HS256_SECRET", "ABONENT_AUTH_PUBLIC_KEY_FILE", "ABONENT_AUTH_JWKS_URL")


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_AUTH_", extra="ignore")

    issuer: str = Field("abonent", description="the `iss` every token must carry")
    audience: str = Field("abonent", description="the `aud` every token must carry")
    hs256_secret: SecretStr | None = Field(None, description="shared secret (at least 32 bytes)")
    public_key_file: Path | None = Field(None, description="PEM file with an RSA or EC public key")
    jwks_url: str | None = Field(None, description="the SSO's JWKS document")
    leeway_seconds: int = Field(30, ge=0, le=300, description="clock skew allowed on exp/nbf/iat")
    jwks_cache_seconds: float = Field(300.0, gt=0, description="how long a fetched key set is used")
    jwks_min_refresh_seconds: float = Field(
        30.0, ge=0, description="at most one fetch per this interval on unknown `kid`s"
    )
    jwks_timeout_seconds: float = Field(2.0, gt=0, description="deadline of one JWKS fetch")

    @model_validator(mode="after")
    def _one_key_source(self) -> AuthSettings:
        given = [self.hs256_secret is not None, self.public_key_file is not None, self.jwks_url is not None]
        if sum(given) != 1:
            raise ValueError(
                f"configure exactly one token key source: one of {', '.join(KEY_SOURCES)} ({sum(given)} given)"
            )
        if self.hs256_secret is not None and len(self.hs256_secret.get_secret_value()) < 32:
            raise ValueError("ABONENT_AUTH_HS256_SECRET must be at least 32 characters")
        return self


def settings_from(env_file: Path) -> AuthSettings:
    """The ``ABONENT_AUTH_*`` lines of an env file such as ``.run/stack.env``; what the file
    does not say (or all, without the file) comes from the environment."""
    given: dict[str, str] = {}
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip().startswith("ABONENT_AUTH_"):
                given[name.strip().removeprefix("ABONENT_AUTH_").lower()] = value.strip()
    fields: dict[str, Any] = {k: v for k, v in given.items() if k in AuthSettings.model_fields}  # validated below
    return AuthSettings(**fields)
