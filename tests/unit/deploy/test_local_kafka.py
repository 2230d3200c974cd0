"""The local launcher's Kafka: cluster ids the storage tool accepts, the SASL_SSL listener config,
the configs and ports of a 3-broker cluster."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from deploy.local import kafka
from deploy.local.errors import LauncherError
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


def _props(config: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in config.read_text().splitlines())


def test_a_single_broker_keeps_one_copy_in_its_old_place(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    props = _props(kafka.write_config(run, StackPorts(9000, 9001, 9002, 9003)))
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9001"
    assert props["log.dirs"] == str(tmp_path / "kafka" / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert kafka.pidfile(run) == tmp_path / "kafka" / "kafka.pid"


def test_each_node_of_a_cluster_of_three_is_one_voter_of_all_three(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    ports = StackPorts(9000, 9001, 9002, 9003).with_brokers(3)  # nodes 2 and 3 skip 9002 and 9003
    assert ports.bootstrap == "127.0.0.1:9000,127.0.0.1:9004,127.0.0.1:9006"
    props = _props(kafka.write_config(run, ports, node=2))
    assert props["node.id"] == "2"
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9001,2@127.0.0.1:9005,3@127.0.0.1:9007"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9004,CONTROLLER://127.0.0.1:9005"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9004"
    assert props["log.dirs"] == str(tmp_path / "kafka" / "node-2" / "data")
    # the internal topics too: a lost broker must not take the group offsets with it
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        assert props[key] == "3"
    for key in ("min.insync.replicas", "transaction.state.log.min.isr"):
        assert props[key] == "2"
    assert kafka.pidfile(run, 3) == tmp_path / "kafka" / "node-3" / "kafka.pid"


def test_topics_keep_three_copies_and_need_two_from_three_brokers_on() -> None:
    one, three, five = kafka.replication(1), kafka.replication(3), kafka.replication(5)
    assert (one.replication_factor, one.min_insync_replicas) == (1, 1)
    assert (three.replication_factor, three.min_insync_replicas) == (3, 2)
    assert (five.replication_factor, five.min_insync_replicas) == (3, 2)


def test_cluster_ports_are_distinct_and_survive_the_ports_file(tmp_path: Path) -> None:
    ports = StackPorts.free(brokers=3)
    numbers = [ports.postgres, ports.smtp, *(p for broker in ports.brokers for p in broker)]
    assert len(ports.brokers) == 3 and len(set(numbers)) == 8
    run = RunDir(tmp_path)
    run.save_ports(ports)
    assert run.load_ports() == ports
    assert StackPorts().with_brokers(3).more_brokers == ((19094, 19095), (19096, 19097))


def test_a_single_broker_run_dir_refuses_to_become_a_cluster(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.save_ports(StackPorts())
    with pytest.raises(LauncherError, match="already runs on other ports"):
        run.ports(StackPorts().with_brokers(3))
