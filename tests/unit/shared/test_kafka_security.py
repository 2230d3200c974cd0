"""KafkaSettings → the security of every Kafka client, built in one place."""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from faststream.kafka.security import parse_security
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from shared.kafka_security import broker_security, client_options, plaintext
from shared.settings import KafkaSettings
from tests.support.tls import make_tls_files

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def test_plaintext_is_only_the_bootstrap_servers() -> None:
    kafka = KafkaSettings(bootstrap_servers="10.0.0.1:9092")
    assert client_options(kafka) == {"bootstrap_servers": "10.0.0.1:9092"}
    assert broker_security(kafka) is None
    assert client_options(plaintext("k:1")) == {"bootstrap_servers": "k:1"}
    # PLAINTEXT is answered without loading FastStream: the answer must stay FastStream's own
    assert parse_security(None) == {}


def test_a_plaintext_service_does_not_load_faststream_or_the_spreadsheet_writer() -> None:
    """The projections process imports neither at start-up (~20 MB of RSS a process, issue 20's
    memory target); each is loaded where it is used."""
    code = (
        "import sys, services.projections.bootstrap as b; "
        "from shared.kafka_security import client_options, plaintext; client_options(plaintext('k:1')); "
        "print(','.join(m for m in ('faststream', 'openpyxl', 'httpx') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


@pytest.mark.parametrize(
    ("mechanism", "kind"), [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)]
)
def test_sasl_ssl_gives_the_broker_and_raw_clients_the_same_security(mechanism, kind, tls) -> None:
    kafka = KafkaSettings(
        bootstrap_servers="k:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism=mechanism,
        sasl_username="relay",
        sasl_password="s3cret",
        ssl_cafile=tls.ca,
    )
    security = broker_security(kafka)
    assert isinstance(security, kind) and security.use_ssl
    options = client_options(kafka)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == mechanism
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("relay", "s3cret")
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "Abonent test CA"),),)]


def test_sasl_plaintext_has_no_tls() -> None:
    options = client_options(
        KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="p")
    )
    assert options["security_protocol"] == "SASL_PLAINTEXT" and options["ssl_context"] is None


def test_ssl_with_a_client_certificate(tls) -> None:
    options = client_options(
        KafkaSettings(security_protocol="SSL", ssl_cafile=tls.ca, ssl_certfile=tls.server, ssl_keyfile=tls.server)
    )
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options


def test_settings_come_from_the_environment_and_hide_the_password(monkeypatch, tls) -> None:
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_SSL",
        "SASL_MECHANISM": "SCRAM-SHA-256",
        "SASL_USERNAME": "contracts",
        "SASL_PASSWORD": "hunter2",
        "SSL_CAFILE": str(tls.ca),
    }.items():
        monkeypatch.setenv(f"ABONENT_KAFKA_{name}", value)
    kafka = KafkaSettings()
    assert client_options(kafka)["sasl_mechanism"] == "SCRAM-SHA-256"
    assert "hunter2" not in repr(kafka) and "hunter2" not in str(kafka.model_dump())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"security_protocol": "SASL_SSL", "sasl_username": "u"},
            "needs ABONENT_KAFKA_SASL_USERNAME and ABONENT_KAFKA_SASL_PASSWORD",
        ),
        ({"sasl_username": "u", "sasl_password": "p"}, "does not authenticate with SASL"),
        (
            {"ssl_cafile": "{ca}"},
            "ABONENT_KAFKA_SSL_CAFILE is set but ABONENT_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS",
        ),
        (
            {"security_protocol": "SSL", "ssl_certfile": "{ca}"},
            "SSL_CERTFILE and ABONENT_KAFKA_SSL_KEYFILE go together",
        ),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"}, "ABONENT_KAFKA_SSL_CAFILE: no such file"),
        (
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI", "sasl_username": "u", "sasl_password": "p"},
            "sasl_mechanism",
        ),
    ],
)
def test_inconsistent_settings_are_refused_naming_the_variable(values, message, tls) -> None:
    values = {k: v.format(ca=tls.ca) for k, v in values.items()}
    with pytest.raises(ValidationError, match=re.escape(message)):
        KafkaSettings(**values)


CLIENT_CALL = re.compile(r"\b(AIOKafkaProducer|AIOKafkaConsumer|AIOKafkaAdminClient|KafkaBroker)\(")


def test_every_kafka_client_of_the_services_and_the_launcher_is_built_from_the_settings() -> None:
    """A new producer, consumer or admin client that skips shared.kafka_security fails here."""
    unsecured = []
    for folder in ("services", "shared", "deploy"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "asyncapi.py":  # documentation only: never connects
                continue
            text = path.read_text()
            for match in CLIENT_CALL.finditer(text):
                call = text[match.end() : match.end() + 400]
                if "client_options(" not in call and "security=" not in call:
                    line = text.count("\n", 0, match.start()) + 1
                    unsecured.append(f"{path.relative_to(REPO)}:{line}")
    assert unsecured == []
