"""The local launcher's Kafka: cluster ids the storage tool accepts, the SASL_SSL listener config."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from deploy.local import kafka
from deploy.local.layout import RunDir, StackPorts

# base64url of a first byte 0b111110xx is '-': Kafka's storage tool would read it as an option.
DASH_FIRST = uuid.UUID("f8000000-0000-4000-8000-000000000000")
FINE = uuid.UUID("12345678-1234-4234-8234-123456789abc")


def test_the_fixed_uuid_really_encodes_with_a_leading_dash() -> None:
    assert base64.urlsafe_b64encode(DASH_FIRST.bytes).decode().startswith("-")


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch, tmp_path: Path) -> None:
    draws = iter([DASH_FIRST, FINE])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))
    run = RunDir(tmp_path)
    run.kafka.mkdir(parents=True)
    cluster_id = kafka._cluster_id(run)
    assert cluster_id == base64.urlsafe_b64encode(FINE.bytes).decode().rstrip("=")
    assert len(cluster_id) == 22


def test_a_saved_dash_id_from_an_older_launcher_is_replaced(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.kafka.mkdir(parents=True)
    (run.kafka / "cluster.id").write_text("-" + "A" * 21)
    assert not kafka._cluster_id(run).startswith("-")


def test_sasl_ssl_listener_config_and_scram_users(tmp_path: Path) -> None:
    sasl = kafka.SaslSsl(tmp_path / "server.pem", tmp_path / "ca.pem", {"broker": "b-pw", "contracts": "c-pw"})
    config = kafka.write_config(RunDir(tmp_path), StackPorts(9000, 9001, 9002, 9003), sasl)
    props = dict(line.split("=", 1) for line in config.read_text().splitlines())
    assert props["listeners"] == "SASL_SSL://127.0.0.1:9000,CONTROLLER://127.0.0.1:9001"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512"
    assert props["ssl.keystore.type"] == "PEM"
    assert config.stat().st_mode & 0o077 == 0  # the broker's password is in it
    assert sasl.format_args().count("--add-scram") == 4
    assert "SCRAM-SHA-512=[name=contracts,password=c-pw]" in sasl.format_args()
    assert "c-pw" not in repr(sasl)
