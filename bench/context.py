"""What every benchmark gets: the running stack, the profile, the report to add rows to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench.environment import BenchEnv
from bench.profiles import Profile
from bench.results import Report


@dataclass
class Ctx:
    env: BenchEnv
    profile: Profile
    report: Report
    say: Callable[[str], None]
    today: date = field(default_factory=date.today)
    data: dict[str, Any] = field(default_factory=dict)
    """Things one step finds for the next (e.g. the outbox sample, ids to write against)."""
