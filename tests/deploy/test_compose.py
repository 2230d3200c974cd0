"""deploy/compose/compose.yaml, checked without a Docker engine: `docker-compose config -q`
(Debian's docker-compose) with the .env.example, then the resolved file read for what the
issue asks: health-gated start order, one-shot migrations and topics before the services,
every service from the one image with a role it has, and only variables the code reads."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.__main__ import ROLES
from tests.support.deploy import COMPOSE, RUNTIME, role_variables, run, tool

INFRA = {"kafka", "postgres", "mail"}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("compose")
    shutil.copytree(COMPOSE, folder, dirs_exist_ok=True)
    shutil.copy(folder / ".env.example", folder / ".env")
    compose = tool("docker-compose")
    quiet = run(compose, "-f", str(folder / "compose.yaml"), "config", "-q", cwd=folder)
    assert quiet.returncode == 0, quiet.stderr
    done = run(compose, "-f", str(folder / "compose.yaml"), "config", cwd=folder)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_a_missing_secret_is_refused(tmp_path: Path) -> None:
    shutil.copytree(COMPOSE, tmp_path, dirs_exist_ok=True)
    (tmp_path / ".env").write_text("ABONENT_AUTH_HS256_SECRET=" + "x" * 40 + "\n")  # no POSTGRES_PASSWORD
    done = run(tool("docker-compose"), "-f", str(tmp_path / "compose.yaml"), "config", "-q", cwd=tmp_path)
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr


def _role(service: dict[str, Any]) -> str:
    command = service["command"]
    return " ".join(command[:2]) if command[0] == "migrate" else command[0]


def test_every_service_runs_a_role_of_the_one_image(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    ours = {name: s for name, s in services.items() if name not in INFRA}
    assert {"contracts", "projections", "tickets", "notifier", "console", "scheduler", "topics"} <= set(ours)
    assert {f"migrate-{s}" for s in ("contracts", "projections", "tickets", "notifier")} <= set(ours)
    for name, service in ours.items():
        assert service["image"] == "abonent:0.1.0", name
        assert _role(service).split()[0] in ROLES, name


def test_start_order_is_health_gated(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for infra in ("kafka", "postgres"):
        assert services[infra]["healthcheck"]["test"], infra
    for name in ("contracts", "projections", "tickets", "notifier", "scheduler", "console"):
        after = services[name]["depends_on"]
        assert after["kafka"]["condition"] == after["postgres"]["condition"] == "service_healthy", name
        for one_shot in ("topics", "migrate-contracts", "migrate-projections", "migrate-tickets", "migrate-notifier"):
            assert after[one_shot]["condition"] == "service_completed_successfully", (name, one_shot)
            assert services[one_shot]["restart"] == "no"


def test_every_variable_passed_is_read_by_the_code(resolved: dict[str, Any]) -> None:
    """Per container: what compose hands it (environment + .env) is what its role reads. The
    shared block goes to every container, so a variable must be read by at least one role."""
    variables = role_variables()
    known = set().union(*variables.values()) | RUNTIME
    unknown: dict[str, set[str]] = {}
    for name, service in resolved["services"].items():
        if name in INFRA:
            continue
        passed = set(service.get("environment", {}))
        if "console" not in variables:  # services/console is another lane's: checked once it exists
            passed = {v for v in passed if not v.startswith("CONSOLE_")}
        extra = passed - known
        if extra:
            unknown[name] = extra
    assert unknown == {}, f"variables no code reads: {unknown}"
    # and the ones each role cannot do without are there
    env = resolved["services"]["contracts"]["environment"]
    assert env["CONTRACTS_DATABASE_URL"].startswith("postgresql://abonent:") and env["ABONENT_AUTH_HS256_SECRET"]
    assert resolved["services"]["tickets"]["environment"]["TICKETS_PROJECTIONS_URL"] == "http://projections:8002"
