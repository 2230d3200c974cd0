"""``abonent ROLE [ARGS]`` (or ``python -m services ROLE``): the one command of the container
image, which picks what the process is. Each role is an ordinary module's command line, run as
if called with ``python -m``, so ``abonent ROLE --help`` is that module's own help.
"""

from __future__ import annotations

import importlib.util
import runpy
import sys

ROLES: dict[str, tuple[str, list[str], str]] = {
    # role: (module, arguments put before the caller's, what it is)
    "contracts": ("services.contracts", [], "contracts HTTP API (+ in-process outbox relay), port 8001"),
    "projections": ("services.projections", [], "projections HTTP API + its Kafka consumer, port 8002"),
    "tickets": ("services.tickets", [], "tickets HTTP API (+ in-process outbox relay), port 8003"),
    "notifier": ("services.notifier", [], "notifier Kafka consumer + its HTTP API, port 8004"),
    "console": ("services.console", [], "the people's console, port 8000"),
    "scheduler": ("services.contracts.entrypoints.scheduler", [], "time-event loop; probes on port 8005"),
    "relay": ("shared.outbox", [], "standalone outbox relay of OUTBOX_DATABASE_URL; probes on port 8006"),
    "migrate": ("", [], "migrate SERVICE: apply SERVICE's SQL migrations and exit"),
    "rebuild-projections": ("services.projections.entrypoints.cli", ["rebuild"], "replay all events, swap in"),
    "topics": ("shared.kafka_topics", [], "create the missing Kafka topics and exit"),
    "healthcheck": ("services.healthcheck", [], "the image's HEALTHCHECK: /health/live of PID 1's role"),
}
MIGRATABLE = ("contracts", "projections", "tickets", "notifier")


def usage() -> str:
    lines = ["usage: abonent ROLE [ARGS...]   (abonent ROLE --help for a role's own options)", "", "roles:"]
    lines += [f"  {name:<20} {what}" for name, (_, _, what) in ROLES.items()]
    return "\n".join(lines)


def resolve(argv: list[str]) -> tuple[str, list[str]]:
    """(module to run, its argv) for ``abonent`` called with ``argv``; SystemExit with the
    usage when the role is unknown."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        raise SystemExit(0 if argv else 2)
    role, rest = argv[0], argv[1:]
    if role not in ROLES:
        raise SystemExit(f"abonent: unknown role {role!r}\n\n{usage()}")
    if role == "migrate":
        if rest and rest[0] in ("-h", "--help"):
            raise SystemExit(f"usage: abonent migrate SERVICE   (SERVICE: {' | '.join(MIGRATABLE)})")
        if not rest or rest[0] not in MIGRATABLE:
            raise SystemExit(f"abonent migrate: name the service: {' | '.join(MIGRATABLE)}")
        return f"services.{rest[0]}", ["migrate", *rest[1:]]
    module, prefix, _ = ROLES[role]
    if importlib.util.find_spec(module) is None:
        raise SystemExit(f"abonent: this build has no {module} (role {role!r})")
    return module, [*prefix, *rest]


def main() -> None:
    module, args = resolve(sys.argv[1:])
    sys.argv = [f"abonent {sys.argv[1]}", *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
