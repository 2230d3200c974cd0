"""A real single-node KRaft Kafka broker from the official jars that Maven fetches."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from deploy.local import processes
from deploy.local.errors import LauncherError
from deploy.local.layout import REPO, RunDir, StackPorts, port_is_free, port_is_open, run_async

POM_DIR = REPO / "deploy" / "kafka"
LIBS = REPO / ".run" / "kafka-libs"  # shared by every run dir: fetched once per checkout
LOG4J = POM_DIR / "log4j2.xml"


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
        ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={LIBS}"],
        cwd=POM_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["(no output)"]
        raise LauncherError(f"Maven could not fetch the Kafka jars (is Maven Central reachable?): {last[0][:200]}")
    (LIBS / ".complete").write_text("ok\n")
    return LIBS


def _java(main: str, *args: str, heap: str = "512m") -> list[str]:
    return ["java", f"-Xmx{heap}", "-Xms128m", "-XX:+UseG1GC", "-cp", f"{LIBS}/*",
            f"-Dlog4j2.configurationFile={LOG4J}", main, *args]


def write_config(run: RunDir, ports: StackPorts) -> Path:
    run.kafka.mkdir(parents=True, exist_ok=True)
    config = run.kafka / "server.properties"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{ports.controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{ports.kafka},CONTROLLER://127.0.0.1:{ports.controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
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
    config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    return config


def _cluster_id(run: RunDir) -> str:
    path = run.kafka / "cluster.id"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
    return path.read_text().strip()


def pidfile(run: RunDir) -> Path:
    return run.kafka / "kafka.pid"


def start(run: RunDir, ports: StackPorts, timeout: float = 90.0) -> int:
    """Start the broker (formatting its storage the first time); wait until it answers."""
    pid = processes.running(pidfile(run))
    if pid is not None:
        return pid
    if not port_is_free(ports.kafka) or not port_is_free(ports.controller):
        raise LauncherError(
            f"port {ports.kafka} or {ports.controller} is in use by another program: "
            "stop it or choose other ports (--kafka-port)")
    config = write_config(run, ports)
    if not (run.kafka / "data" / "meta.properties").exists():
        result = subprocess.run(
            _java("kafka.tools.StorageTool", "format", "-t", _cluster_id(run), "-c", str(config),
                  "--ignore-formatted", heap="256m"), capture_output=True, text=True)
        if result.returncode != 0:
            raise LauncherError(f"Kafka storage format failed: {result.stderr.strip()[-200:]}")
    log = run.kafka / "kafka.log"
    processes.spawn(_java("kafka.Kafka", str(config)), log=log, pidfile=pidfile(run))
    processes.wait_for(lambda: _answers(ports.kafka), timeout, "Kafka", log, pidfile(run))
    return processes.read_pid(pidfile(run)) or 0


def _answers(port: int) -> bool:
    """True once the broker serves metadata (its socket only opens when it accepts clients)."""
    if not port_is_open(port):
        return False
    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000)
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


