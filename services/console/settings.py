"""The console's settings (``CONSOLE_*`` plus the shared ``ABONENT_AUTH_*``, ``ABONENT_TIMEZONE``, log).

The console owns no database and no topic: it needs the four services' base URLs, and how
people sign in — the development sign-in page (tokens minted with ``ABONENT_AUTH_HS256_SECRET``,
refused once single sign-on is configured) or the company's OIDC provider (``CONSOLE_OIDC_*``).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth.settings import AuthSettings
from shared.calendar import CalendarSettings, calendar_settings
from shared.settings import LogSettings


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", hide_input_in_errors=True)

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    contracts_url: str = "http://127.0.0.1:8001"
    projections_url: str = "http://127.0.0.1:8002"
    tickets_url: str = "http://127.0.0.1:8003"
    notifier_url: str = "http://127.0.0.1:8004"
    api_timeout_seconds: float = Field(5.0, gt=0)
    """Deadline of one call to a service; past it the page says which service did not answer."""
    token_ttl_minutes: int = Field(480, ge=1, le=7 * 24 * 60)
    """Lifetime of a token from the development sign-in page."""
    cookie_secure: bool = False
    """Send the sign-in cookies over HTTPS only (set it wherever the console is served over TLS)."""
    oidc_issuer: str | None = None
    """Single sign-on: the OIDC issuer URL (its ``/.well-known/openid-configuration`` is read).
    Set, the development sign-in page is refused."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile email"
    oidc_token: str = Field("access_token", pattern="^(access_token|id_token)$")
    """Which token of the provider's answer the services get as the bearer token (a JWT they
    verify with ``ABONENT_AUTH_JWKS_URL``: audience, issuer and a ``roles`` claim)."""
    session_secret: SecretStr | None = None
    """Signs the short-lived OIDC login state cookie (required with single sign-on)."""
    csrf_secret: SecretStr | None = None
    """Keys the forms' anti-forgery tokens; unset, they are keyed by ``session_secret`` or else
    the development sign-in's ``ABONENT_AUTH_HS256_SECRET`` (every replica must share it)."""
    auth: AuthSettings = Field(default_factory=AuthSettings)
    calendar: CalendarSettings = Field(default_factory=calendar_settings)
    log: LogSettings = Field(default_factory=LogSettings)

    @property
    def sso(self) -> bool:
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _sso_complete(self) -> Self:
        if self.sso and (not self.oidc_client_id or self.session_secret is None):
            raise ValueError("CONSOLE_OIDC_ISSUER needs CONSOLE_OIDC_CLIENT_ID and CONSOLE_SESSION_SECRET")
        return self
