"""The notifier's settings (``NOTIFY_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.notifier.adapters.smtp import SmtpConfig, SmtpTls
from services.notifier.domain.addresses import InvalidAddress, normalize, split_addresses
from services.notifier.domain.failures import RetryPolicy
from shared.settings import ServiceSettings
from shared.topics import NOTIFIER_GROUP


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    http_port: int = 8004
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: SmtpTls = Field("starttls", description="starttls | tls (port 465) | none (plain)")
    smtp_allow_plaintext_auth: bool = Field(
        False, description="let NOTIFY_SMTP_USERNAME log in with NOTIFY_SMTP_TLS=none"
    )
    smtp_timeout: float = Field(10.0, gt=0)
    smtp_validate_certs: bool = True
    from_email: str = "abonent@example.com"
    general_email: str = Field("", description="comma-separated addresses that get every notification")
    locale: Literal["ru", "en"] = "ru"
    max_attempts: int = Field(8, ge=1, description="SMTP attempts per e-mail before it is dead-lettered")
    retry_initial_seconds: float = Field(1.0, ge=0)
    retry_max_seconds: float = Field(60.0, ge=0)
    retry_poll_seconds: float = Field(1.0, gt=0, description="how often the retry worker looks for due retries")
    message_id_domain: str | None = Field(None, description="right side of Message-ID; default: from_email's domain")
    group_id: str = NOTIFIER_GROUP
    consume: bool = True

    @field_validator("from_email")
    @classmethod
    def _from_is_an_address(cls, value: str) -> str:
        try:
            return normalize(value)
        except InvalidAddress as exc:
            raise ValueError(str(exc)) from None

    @field_validator("general_email")
    @classmethod
    def _general_are_addresses(cls, value: str) -> str:
        try:
            return ", ".join(split_addresses(value))
        except InvalidAddress as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> NotifierSettings:
        if self.smtp_username and self.smtp_tls == "none" and not self.smtp_allow_plaintext_auth:
            raise ValueError(
                "NOTIFY_SMTP_USERNAME is set with NOTIFY_SMTP_TLS=none: the SMTP password would "
                "cross the network in clear text; use starttls or tls, or set "
                "NOTIFY_SMTP_ALLOW_PLAINTEXT_AUTH=true"
            )
        return self

    @property
    def general_emails(self) -> tuple[str, ...]:
        return split_addresses(self.general_email)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.max_attempts, self.retry_initial_seconds, max(self.retry_max_seconds, self.retry_initial_seconds)
        )

    @property
    def smtp(self) -> SmtpConfig:
        return SmtpConfig(
            self.smtp_host,
            self.smtp_port,
            self.smtp_username,
            self.smtp_password,
            self.smtp_tls,
            self.smtp_timeout,
            self.smtp_validate_certs,
        )
