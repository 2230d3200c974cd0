"""A real KRaft Kafka broker from the official jars that Maven fetches: one node, or a cluster
of several (each node broker and controller, one voter of a static quorum of them all).

Its client listener is PLAINTEXT (the local stack) or SASL_SSL with SCRAM users (a
:class:`SaslSsl` given to :func:`start`; the users are written at storage format time).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local import processes
from deploy.local.errors import LauncherError
from deploy.local.layout import REPO, RunDir, StackPorts, port_is_free, port_is_open, run_async
from shared.kafka_security import client_options, plaintext
from shared.kafka_topics import TopicSettings
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


def replication(nodes: int) -> TopicSettings:
    """How many copies of each partition a cluster of ``nodes`` keeps, and how many an
    ``acks=all`` write needs: 1/1 on one broker; 3/2 from three brokers on (a write survives
    one broker lost, and is refused rather than land on one copy only)."""
    copies = min(nodes, 3)
    return TopicSettings(replication_factor=copies, min_insync_replicas=max(copies - 1, 1))


def node_dir(run: RunDir, node: int = 1) -> Path:
    """Node 1 keeps the single broker's place (``<run>/kafka``); node n lives in ``<run>/kafka/node-n``."""
    return run.kafka if node == 1 else run.kafka / f"node-{node}"


def write_config(run: RunDir, ports: StackPorts, sasl_ssl: SaslSsl | None = None, node: int = 1) -> Path:
    """``server.properties`` of ``node`` (1-based): every node is broker and controller, one
    voter of the static quorum of all ``ports.brokers``."""
    folder = node_dir(run, node)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "server.properties"
    client = "SASL_SSL" if sasl_ssl else "PLAINTEXT"
    me = ports.brokers[node - 1]
    copies = replication(len(ports.brokers))
    rf, min_isr = str(copies.replication_factor), str(copies.min_insync_replicas)
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": ",".join(
            f"{n}@127.0.0.1:{b.controller}" for n, b in enumerate(ports.brokers, start=1)
        ),
        "listeners": f"{client}://127.0.0.1:{me.client},CONTROLLER://127.0.0.1:{me.controller}",
        "advertised.listeners": f"{client}://127.0.0.1:{me.client}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{client}:{client}",
        **(sasl_ssl.broker_config() if sasl_ssl else {}),
        "log.dirs": str(folder / "data"),
        "num.partitions": "12",
        "auto.create.topics.enable": "false",
        # the internal topics and any topic created without saying: as many copies as ours
        "default.replication.factor": rf,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min_isr,
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


def pidfile(run: RunDir, node: int = 1) -> Path:
    return node_dir(run, node) / "kafka.pid"


def pidfiles(run: RunDir, ports: StackPorts) -> list[Path]:
    return [pidfile(run, n) for n in range(1, len(ports.brokers) + 1)]


def start(run: RunDir, ports: StackPorts, timeout: float = 90.0, sasl_ssl: SaslSsl | None = None) -> int:
    """Start every node not running (formatting its storage the first time); wait until each
    answers and, on a cluster, until every broker has joined. Returns node 1's pid."""
    nodes = [n for n in range(1, len(ports.brokers) + 1) if processes.running(pidfile(run, n)) is None]
    for n in nodes:
        me = ports.brokers[n - 1]
        if not port_is_free(me.client) or not port_is_free(me.controller):
            raise LauncherError(
                f"port {me.client} or {me.controller} (Kafka node {n}) is in use by another program: "
                "stop it or choose other ports (--kafka-port)"
            )
    configs = {n: write_config(run, ports, sasl_ssl, n) for n in nodes}
    unformatted = [n for n in nodes if not (node_dir(run, n) / "data" / "meta.properties").exists()]
    if unformatted:  # one JVM each: formatted side by side
        cluster_id = _cluster_id(run)
        scram = sasl_ssl.format_args() if sasl_ssl else []
        formats = {
            n: subprocess.Popen(
                _java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(configs[n]),
                    "--ignore-formatted",
                    *scram,
                    heap="256m",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in unformatted
        }
        for n, proc in formats.items():
            _, stderr = proc.communicate()
            if proc.returncode != 0:  # stderr never holds the SCRAM passwords (they are argv)
                raise LauncherError(f"Kafka storage format (node {n}) failed: {stderr.strip()[-200:]}")
    for n in nodes:  # all before waiting: a node answers only once a quorum of controllers runs
        log = node_dir(run, n) / "kafka.log"
        processes.spawn(_java("kafka.Kafka", str(configs[n])), log=log, pidfile=pidfile(run, n))
    deadline = time.monotonic() + timeout
    for n in nodes:
        client = _client(ports, n, sasl_ssl)
        me = ports.brokers[n - 1]
        processes.wait_for(
            lambda me=me, client=client: _answers(me.client, client),
            max(deadline - time.monotonic(), 1.0),
            "Kafka" if len(ports.brokers) == 1 else f"Kafka node {n}",
            node_dir(run, n) / "kafka.log",
            pidfile(run, n),
        )
    if len(ports.brokers) > 1:
        client = _client(ports, None, sasl_ssl)
        processes.wait_for(
            lambda: brokers_joined(client) >= len(ports.brokers),
            max(deadline - time.monotonic(), 1.0),
            f"every one of the {len(ports.brokers)} Kafka brokers to join the cluster",
            run.kafka / "kafka.log",
        )
    return processes.read_pid(pidfile(run)) or 0


def _client(ports: StackPorts, node: int | None, sasl_ssl: SaslSsl | None) -> KafkaSettings:
    """A client of ``node`` alone, or (None) of the whole cluster."""
    bootstrap = ports.bootstrap if node is None else f"127.0.0.1:{ports.brokers[node - 1].client}"
    return sasl_ssl.client(bootstrap, sasl_ssl.broker_user) if sasl_ssl else plaintext(bootstrap)


def brokers_joined(kafka: KafkaSettings) -> int:
    """How many brokers the cluster's metadata names now (0 when it does not answer)."""
    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> int:
        admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=3000)
        try:
            await admin.start()
            return len((await admin.describe_cluster())["brokers"])
        except Exception:  # noqa: BLE001 - "not yet" is the answer to any failure here
            return 0
        finally:
            await admin.close()

    return run_async(probe())


def _answers(port: int, kafka: KafkaSettings) -> bool:
    """True once the broker serves metadata (its socket only opens when it accepts clients)."""
    return port_is_open(port) and brokers_joined(kafka) > 0


def stop(run: RunDir) -> bool:
    """Stop every node this run dir started, all at once (one by one, the last ones would wait
    for a controller quorum that is already gone); True if any ran. A cluster's nodes get 30 s:
    without a quorum a broker's controlled shutdown waits for a controller that never comes
    (then SIGKILL, which the next start recovers from, as the fault suite shows)."""
    found = sorted(run.kafka.glob("node-*/kafka.pid")) if run.kafka.exists() else []
    return processes.stop_all([pidfile(run), *found], timeout=30 if found else 60)
