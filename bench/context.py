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
    data: dict[str, Any] = field(default_factory=dict)
    """Things one step finds for the next (e.g. the outbox sample, ids to write against)."""

    @property
    def today(self) -> date:
        """Today in the stack's company time zone (the services' and the data set's today)."""
        return self.env.today()
