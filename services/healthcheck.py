"""``abonent healthcheck [ROLE]``: the image's HEALTHCHECK. Asks ``/health/live`` of the role
the container runs (read from PID 1's command line unless given), on the port that role's
settings say; a one-shot role (migrate, topics, rebuild-projections) has nothing to ask."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

PORTS: dict[str, tuple[str, int]] = {
    # role: (variable holding its port, the settings' default)
    "console": ("CONSOLE_HTTP_PORT", 8000),
    "contracts": ("CONTRACTS_HTTP_PORT", 8001),
    "projections": ("PROJECTIONS_HTTP_PORT", 8002),
    "tickets": ("TICKETS_HTTP_PORT", 8003),
    "notifier": ("NOTIFY_HTTP_PORT", 8004),
    "scheduler": ("CONTRACTS_SCHEDULER_HTTP_PORT", 8005),
    "relay": ("OUTBOX_HTTP_PORT", 8006),
}


def role_of(cmdline: list[str]) -> str | None:
    """The word after the ``abonent`` command in a process's command line."""
    for i, word in enumerate(cmdline[:-1]):
        if Path(word).name == "abonent":
            return cmdline[i + 1]
    return None


def live_url(role: str, env: dict[str, str]) -> str | None:
    if role not in PORTS:
        return None
    variable, default = PORTS[role]
    return f"http://127.0.0.1:{env.get(variable, default)}/health/live"


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv:
        role: str | None = argv[0]
    else:
        role = role_of(Path("/proc/1/cmdline").read_bytes().decode().split("\0"))
    url = live_url(role or "", dict(os.environ))
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # a fixed local http URL
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(f"{role}: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
