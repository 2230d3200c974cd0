"""Domain errors: a stable machine ``rule``, the ``field`` it concerns, a human ``message``.

The entrypoints map them: RuleViolated → 422, NotFound → 404, Conflict → 409, and
NotCovered → 409 with the coverage the refusal was based on.
"""

from __future__ import annotations

from shared.domain_errors import Conflict, DomainError, NotFound, RuleViolated
from shared.events.tickets import CoverageSnapshot

__all__ = ["Conflict", "DomainError", "NotCovered", "NotFound", "RuleViolated"]


class NotCovered(Conflict):
    """Policy ``block``: the client is not covered and no override reason was given (HTTP 409)."""

    def __init__(self, coverage: CoverageSnapshot, message: str) -> None:
        super().__init__("client_not_covered", message, "override_reason")
        self.coverage = coverage
