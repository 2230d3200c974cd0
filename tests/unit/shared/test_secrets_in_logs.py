"""Passwords in DSNs never reach a log line, whatever key or message carries them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import structlog

from shared.logging import configure_logging, mask_secrets

REPO = Path(__file__).resolve().parents[3]
DSN = "postgresql://abonent:s3cr3t-Pa55@127.0.0.1:15432/abonent_contracts"


def test_mask_secrets_keeps_the_address_and_hides_the_password() -> None:
    assert mask_secrets(DSN) == "postgresql://abonent:***@127.0.0.1:15432/abonent_contracts"
    assert (
        mask_secrets("postgresql://h/db?sslmode=require&password=x1")
        == "postgresql://h/db?sslmode=require&password=***"
    )
    assert mask_secrets("postgresql://abonent@127.0.0.1/db") == "postgresql://abonent@127.0.0.1/db"
    assert mask_secrets("no url here") == "no url here"


def test_a_startup_line_with_a_password_bearing_dsn_is_masked(capsys) -> None:
    configure_logging("json")
    log = structlog.get_logger("secrets-test")
    log.info("relay started", database=DSN, batch_size=1000)
    log.info(f"connecting to {DSN}")
    try:
        raise ConnectionError(f"cannot reach {DSN}")
    except ConnectionError:
        log.exception("relay failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 3
    text = json.dumps(lines)
    assert "s3cr3t" not in text
    assert lines[0]["database"] == "postgresql://abonent:***@127.0.0.1:15432/abonent_contracts"
    assert "abonent:***@127.0.0.1" in lines[2]["exception"]


def _relay(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.outbox", "--database-url", DSN.replace("15432", "1")],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


def test_the_standalone_relay_logs_its_database_without_the_password(tmp_path) -> None:
    """The real startup path: its first line names the database; nothing answers on port 1."""
    result = _relay(tmp_path, {"ABONENT_LOG_FORMAT": "json"})
    first = json.loads(result.stderr.splitlines()[0])
    assert first["event"] == "relay starting"
    assert first["database"] == "postgresql://abonent:***@127.0.0.1:1/abonent_contracts"
    assert result.returncode != 0  # it could not connect
    assert "s3cr3t" not in result.stderr + result.stdout


def test_bad_kafka_settings_stop_it_in_one_line_without_the_password(tmp_path) -> None:
    result = _relay(
        tmp_path, {"ABONENT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "ABONENT_KAFKA_SASL_PASSWORD": "kafka-s3cr3t"}
    )
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "configuration error: ABONENT_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs "
        "ABONENT_KAFKA_SASL_USERNAME and ABONENT_KAFKA_SASL_PASSWORD"
    )
