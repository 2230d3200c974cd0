"""What the offline deploy checks share: where the tools are, the chart rendered, and every
environment variable the code reads (the settings classes and the relay's options)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "abonent"
CR_SCHEMAS = REPO / "deploy" / "helm" / "schemas"
COMPOSE = REPO / "deploy" / "compose"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
KUBERNETES_VERSION = "1.31.0"
"""The Kubernetes version the chart is rendered for and validated against (kubernetes-validate's schemas)."""
TEST_SECRET = "x" * 48


def tool(name: str) -> str:
    """A tool `make deploy-tools` (or the dev extra) installed; an error saying so when missing."""
    for candidate in (REPO / ".tools" / name, Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} is not installed: run `make deploy-tools` (make test does)")
    return found


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)


def helm_template(values: str | None = None, *extra: str) -> list[dict[str, Any]]:
    """The chart rendered like `helm template` would for an install in namespace ``abonent``."""
    args = [tool("helm"), "template", "abonent", str(CHART), "--namespace", "abonent"]
    args += ["--kube-version", KUBERNETES_VERSION]
    if values:
        args += ["-f", str(CHART / values)]
    else:
        args += ["--set", f"secrets.authHs256Secret={TEST_SECRET}"]
    done = run(*args, *extra)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from doc["spec"]["template"]["spec"]["containers"]


# --- the variables the code reads -------------------------------------------------------------


def settings_variables(cls: type[BaseSettings], prefix: str | None = None) -> set[str]:
    """Every variable a settings class reads: its own fields under its prefix, and those of the
    nested settings it builds from the environment (Kafka, logging, auth, calendar)."""
    prefix = prefix if prefix is not None else str(cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        nested = _settings_class(field.annotation)
        if nested is not None:
            names |= settings_variables(nested)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def _settings_class(annotation: Any) -> type[BaseSettings] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
        return annotation
    return None


RUNTIME = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
"""The image's own variables: Python's, not the code's."""


def role_variables() -> dict[str, set[str]]:
    """What each role of the image reads (services/__main__.py ROLES)."""
    from services.contracts.settings import ContractsSettings
    from services.notifier.settings import NotifierSettings
    from services.projections.settings import ProjectionsSettings
    from services.tickets.settings import TicketsSettings
    from shared.kafka_topics import TopicSettings
    from shared.settings import KafkaSettings, LogSettings

    log = settings_variables(LogSettings)
    kafka = settings_variables(KafkaSettings)
    relay = {"OUTBOX_DATABASE_URL", "OUTBOX_HTTP_HOST", "OUTBOX_HTTP_PORT"} | kafka | log
    roles = {
        "contracts": settings_variables(ContractsSettings),
        "projections": settings_variables(ProjectionsSettings),
        "tickets": settings_variables(TicketsSettings),
        "notifier": settings_variables(NotifierSettings),
        "scheduler": settings_variables(ContractsSettings),
        "relay": relay,
        "topics": settings_variables(TopicSettings) | kafka | log,
        "rebuild-projections": settings_variables(ProjectionsSettings),
    }
    for service, prefix in (("contracts", "CONTRACTS_"), ("projections", "PROJECTIONS_")):
        roles[f"migrate {service}"] = {f"{prefix}DATABASE_URL"} | log
    roles["migrate tickets"] = {"TICKETS_DATABASE_URL"} | log
    roles["migrate notifier"] = {"NOTIFY_DATABASE_URL"} | log
    console = console_variables()
    if console is not None:
        roles["console"] = console
    return roles


def console_variables() -> set[str] | None:
    """The console's, once services/console exists on this branch (another lane builds it)."""
    try:
        module = importlib.import_module("services.console.settings")
    except ImportError:
        return None
    classes = [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, BaseSettings) and c.__module__ == module.__name__
    ]
    return set().union(*(settings_variables(c) for c in classes))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
