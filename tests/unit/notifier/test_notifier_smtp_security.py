"""NOTIFY_SMTP_TLS → aiosmtplib's options; no SMTP login in clear text unless allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from services.notifier.adapters.smtp import SmtpConfig, SmtpSender
from services.notifier.settings import NotifierSettings

REPO = Path(__file__).resolve().parents[3]
DB = "postgresql://abonent:db-s3cr3t@127.0.0.1:1/abonent_notifier"
REFUSAL = (
    "NOTIFY_SMTP_USERNAME is set with NOTIFY_SMTP_TLS=none: the SMTP password would cross "
    "the network in clear text; use starttls or tls, or set NOTIFY_SMTP_ALLOW_PLAINTEXT_AUTH=true"
)


@pytest.mark.parametrize(
    ("tls", "use_tls", "start_tls"),
    [
        ("starttls", False, True),  # True: no STARTTLS offered → refuse, never fall back to clear text
        ("tls", True, False),
        ("none", False, False),
    ],
)
def test_tls_mode_maps_to_aiosmtplib_options(tls, use_tls, start_tls) -> None:
    sender = SmtpSender(SmtpConfig("smtp.example.com", 587, "robot", SecretStr("pw"), tls=tls))
    options = sender._connection_kwargs()
    assert (options["use_tls"], options["start_tls"]) == (use_tls, start_tls)
    assert options["validate_certs"] is True
    assert options["password"] == "pw"
    assert "pw" not in repr(sender.config)


def test_starttls_is_the_default() -> None:
    settings = NotifierSettings(database_url=DB)
    assert settings.smtp_tls == "starttls" and settings.smtp.tls == "starttls"


def test_a_login_over_plain_smtp_is_refused() -> None:
    with pytest.raises(ValidationError, match=REFUSAL):
        NotifierSettings(database_url=DB, smtp_username="robot", smtp_password="pw", smtp_tls="none")


@pytest.mark.parametrize(
    "values",
    [
        {"smtp_username": "robot", "smtp_tls": "none", "smtp_allow_plaintext_auth": True},
        {"smtp_username": "robot", "smtp_tls": "starttls"},
        {"smtp_username": "robot", "smtp_tls": "tls"},
        {"smtp_tls": "none"},  # the local sink: no login at all
    ],
)
def test_allowed_combinations(values) -> None:
    assert NotifierSettings(database_url=DB, **values).smtp.tls == values["smtp_tls"]


def test_the_notifier_refuses_to_start_with_one_clear_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "NOTIFY_DATABASE_URL": DB,
        "NOTIFY_SMTP_TLS": "none",
        "NOTIFY_SMTP_USERNAME": "robot",
        "NOTIFY_SMTP_PASSWORD": "smtp-s3cr3t",
        "ABONENT_AUTH_HS256_SECRET": "t" * 48,
    }  # valid everything else: only the SMTP refusal is left
    result = subprocess.run(
        [sys.executable, "-m", "services.notifier"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == f"configuration error: {REFUSAL}"
    assert "s3cr3t" not in result.stdout + result.stderr
