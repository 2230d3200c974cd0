"""A real single-node KRaft Kafka broker from the official jars that Maven fetches.

Its client listener is PLAINTEXT (the local stack) or SASL_SSL with SCRAM users (a
:class:`SaslSsl` given to :func:`start`; the users are written at storage format time).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local import processes
from deploy.local.errors import LauncherError
from deploy.local.layout import REPO, RunDir, StackPorts, port_is_free, port_is_open, run_async
from shared.kafka_security import client_options, plaintext
from shared.settings import KafkaSettings

POM_DIR = REPO / "deploy" / "kafka"
LIBS = REPO / ".run" / "kafka-libs"  # shared by every run dir: fetched once per checkout
LOG4J = POM_DIR / "log4j2.xml"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SaslSsl:
    """A SASL_SSL client listener (also the inter-broker one) with SCRAM users.

    ``keystore``: PEM with the broker's unencrypted PKCS#8 private key and its certificate
    (valid for 127.0.0.1); ``truststore``: PEM with the CA that signed it. ``users`` get
    SCRAM-SHA-256 and SCRAM-SHA-512 credentials; the broker logs in as ``broker_user``.
    """

    keystore: Path
    truststore: Path
    users: dict[str, str] = field(repr=False)
    broker_user: str = "broker"

    def client(self, bootstrap: str, user: str, mechanism: str = "SCRAM-SHA-512") -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=bootstrap,
            security_protocol="SASL_SSL",
            sasl_mechanism=mechanism,
            sasl_username=user,
            sasl_password=self.users[user],
            ssl_cafile=self.truststore,
        )

    def broker_config(self) -> dict[str, str]:
        login = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.broker_user}" password="{self.users[self.broker_user]}";'
        )
        return {
            "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            **{f"listener.name.sasl_ssl.{m.lower()}.sasl.jaas.config": login for m in SCRAM_MECHANISMS},
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.truststore),
            "ssl.client.auth": "none",
        }

    def format_args(self) -> list[str]:
        return [
            arg
            for name, password in self.users.items()
            for m in SCRAM_MECHANISMS
            for arg in ("--add-scram", f"{m}=[name={name},password={password}]")
        ]


def require_java_and_maven() -> None:
    if shutil.which("java") is None:
        raise LauncherError("java not found: install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)")
    if not any(LIBS.glob("kafka_2.13-*.jar")) and shutil.which("mvn") is None:
        raise LauncherError("mvn not found: install Maven (apt-get install maven) to fetch the Kafka jars")


def fetch_jars() -> Path:
    """Copy the broker and its runtime dependencies into LIBS (Maven caches them in ~/.m2)."""
    if any(LIBS.glob("kafka_2.13-*.jar")) and (LIBS / ".complete").exists():
        return LIBS
    LIBS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={LIBS}"],
        cwd=POM_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["(no output)"]
        raise LauncherError(f"Maven could not fetch the Kafka jars (is Maven Central reachable?): {last[0][:200]}")
    (LIBS / ".complete").write_text("ok\n")
    return LIBS


def _java(main: str, *args: str, heap: str = "512m") -> list[str]:
    return [
        "java",
        f"-Xmx{heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-cp",
        f"{LIBS}/*",
        f"-Dlog4j2.configurationFile={LOG4J}",
        main,
        *args,
    ]


def write_config(run: RunDir, ports: StackPorts, sasl_ssl: SaslSsl | None = None) -> Path:
    run.kafka.mkdir(parents=True, exist_ok=True)
    config = run.kafka / "server.properties"
    client = "SASL_SSL" if sasl_ssl else "PLAINTEXT"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{ports.controller}",
        "listeners": f"{client}://127.0.0.1:{ports.kafka},CONTROLLER://127.0.0.1:{ports.controller}",
        "advertised.listeners": f"{client}://127.0.0.1:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{client}:{client}",
        **(sasl_ssl.broker_config() if sasl_ssl else {}),
        "log.dirs": str(run.kafka / "data"),
        "num.partitions": "12",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.hours": "-1",
    }
    config.touch()
    config.chmod(0o600)  # it may hold the broker's SCRAM password
    config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    return config


def new_cluster_id(random_uuid: Callable[[], uuid.UUID] | None = None) -> str:
    """22 characters of base64url, as Kafka's ``Uuid.randomUuid()`` makes them: never starting
    with '-' (the storage tool would read such an id as an option; 1 draw in 64 does)."""
    while True:
        text = base64.urlsafe_b64encode((random_uuid or uuid.uuid4)().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _cluster_id(run: RunDir) -> str:
    path = run.kafka / "cluster.id"
    if not path.exists() or path.read_text().strip().startswith("-"):
        path.write_text(new_cluster_id())
    return path.read_text().strip()


def pidfile(run: RunDir) -> Path:
    return run.kafka / "kafka.pid"


def start(run: RunDir, ports: StackPorts, timeout: float = 90.0, sasl_ssl: SaslSsl | None = None) -> int:
    """Start the broker (formatting its storage the first time); wait until it answers."""
    pid = processes.running(pidfile(run))
    if pid is not None:
        return pid
    if not port_is_free(ports.kafka) or not port_is_free(ports.controller):
        raise LauncherError(
            f"port {ports.kafka} or {ports.controller} is in use by another program: "
            "stop it or choose other ports (--kafka-port)"
        )
    config = write_config(run, ports, sasl_ssl)
    if not (run.kafka / "data" / "meta.properties").exists():
        scram = sasl_ssl.format_args() if sasl_ssl else []
        result = subprocess.run(
            _java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _cluster_id(run),
                "-c",
                str(config),
                "--ignore-formatted",
                *scram,
                heap="256m",
            ),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:  # stderr never holds the SCRAM passwords (they are argv)
            raise LauncherError(f"Kafka storage format failed: {result.stderr.strip()[-200:]}")
    log = run.kafka / "kafka.log"
    bootstrap = f"127.0.0.1:{ports.kafka}"
    client = sasl_ssl.client(bootstrap, sasl_ssl.broker_user) if sasl_ssl else plaintext(bootstrap)
    processes.spawn(_java("kafka.Kafka", str(config)), log=log, pidfile=pidfile(run))
    processes.wait_for(lambda: _answers(ports.kafka, client), timeout, "Kafka", log, pidfile(run))
    return processes.read_pid(pidfile(run)) or 0


def _answers(port: int, kafka: KafkaSettings) -> bool:
    """True once the broker serves metadata (its socket only opens when it accepts clients)."""
    if not port_is_open(port):
        return False
    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return True
        except Exception:  # noqa: BLE001 - "not yet" is the answer to any failure here
            return False
        finally:
            await admin.close()

    return run_async(probe())


def stop(run: RunDir) -> bool:
    return processes.stop(pidfile(run), timeout=60)
