"""deploy/docker/Dockerfile, checked without a Docker engine: hadolint, and what the issue asks
of the image (multi-stage, pinned base, non-root, runtime dependencies only, a healthcheck, the
role command). Building and running it needs an engine this machine lacks (README)."""

from __future__ import annotations

import re

import pytest

from services.__main__ import ROLES, resolve
from services.contracts.settings import ContractsSettings
from services.healthcheck import PORTS, live_url, role_of
from services.notifier.settings import NotifierSettings
from services.projections.settings import ProjectionsSettings
from services.tickets.settings import TicketsSettings
from tests.support.deploy import DOCKERFILE, RUNTIME, role_variables, run, tool

TEXT = DOCKERFILE.read_text()


def test_hadolint_finds_nothing() -> None:
    done = run(tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE))
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_with_a_pinned_base_and_a_non_root_user() -> None:
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", TEXT, re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", TEXT, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1)), "the base names its exact version"
    assert re.search(r"^USER 10001:10001$", TEXT, re.M)
    assert "HEALTHCHECK" in TEXT and '"abonent", "healthcheck"' in TEXT
    assert re.search(r'^ENTRYPOINT \["abonent"\]$', TEXT, re.M)


def test_the_image_installs_no_extras() -> None:
    installs = re.findall(r"pip install[^\n]*", TEXT)
    assert installs and all("[" not in line for line in installs), installs


def test_every_http_host_is_all_interfaces_and_every_variable_exists() -> None:
    env = dict(re.findall(r"^\s+(?:ENV\s+)?([A-Z][A-Z0-9_]+)=(\S+?)\s*\\?$", TEXT, re.M))
    hosts = {k: v for k, v in env.items() if k.endswith("_HTTP_HOST")}
    assert set(hosts) >= {"CONTRACTS_HTTP_HOST", "PROJECTIONS_HTTP_HOST", "TICKETS_HTTP_HOST", "NOTIFY_HTTP_HOST"}
    assert set(hosts.values()) == {"0.0.0.0"}
    read = set().union(*role_variables().values()) | RUNTIME
    unknown = {k for k in env if k not in read and not k.startswith("CONSOLE_")}
    assert unknown == set(), f"the image sets variables no code reads: {unknown}"


def test_the_roles_are_the_issues() -> None:
    assert {"contracts", "projections", "tickets", "notifier", "console", "scheduler", "relay", "migrate"} <= set(ROLES)
    assert {"rebuild-projections", "topics", "healthcheck"} <= set(ROLES)
    assert resolve(["migrate", "projections"]) == ("services.projections", ["migrate"])
    assert resolve(["rebuild-projections"]) == ("services.projections.entrypoints.cli", ["rebuild"])
    assert resolve(["relay", "--batch-size", "10"]) == ("shared.outbox", ["--batch-size", "10"])
    with pytest.raises(SystemExit, match="name the service"):
        resolve(["migrate", "console"])
    with pytest.raises(SystemExit, match="unknown role"):
        resolve(["web"])


def test_the_healthcheck_asks_the_role_of_pid_1_on_its_port() -> None:
    assert role_of(["/opt/abonent/bin/python", "/opt/abonent/bin/abonent", "tickets"]) == "tickets"
    assert role_of(["python", "-m", "something"]) is None
    assert live_url("tickets", {}) == "http://127.0.0.1:8003/health/live"
    assert live_url("scheduler", {"CONTRACTS_SCHEDULER_HTTP_PORT": "9005"}) == "http://127.0.0.1:9005/health/live"
    assert live_url("migrate", {}) is None  # one-shot roles are healthy while they run
    variables = role_variables()
    for role, (variable, _) in PORTS.items():
        if role in variables:  # the console's once it exists
            assert variable in variables[role], (role, variable)
    defaults = {
        "contracts": ContractsSettings.model_fields["http_port"].default,
        "projections": ProjectionsSettings.model_fields["http_port"].default,
        "tickets": TicketsSettings.model_fields["http_port"].default,
        "notifier": NotifierSettings.model_fields["http_port"].default,
        "scheduler": ContractsSettings.model_fields["scheduler_http_port"].default,
    }
    assert {role: PORTS[role][1] for role in defaults} == defaults
