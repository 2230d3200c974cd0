"""Domain errors: a stable machine ``rule``, the ``field`` it concerns, a human ``message``.

The entrypoints map them: RuleViolated → 422, NotFound → 404, Conflict → 409, and
NotCovered → 409 with the coverage the refusal was based on.
"""

from __future__ import annotations

from shared.events.tickets import CoverageSnapshot


class DomainError(Exception):
    def __init__(self, rule: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rule={self.rule!r}, field={self.field!r}, message={self.message!r})"


class RuleViolated(DomainError):
    """The command breaks a business rule (HTTP 422)."""


class NotFound(DomainError):
    """The ticket, line, client or price-list item the command names does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The thing to create already exists (HTTP 409)."""


class NotCovered(Conflict):
    """Policy ``block``: the client is not covered and no override reason was given (HTTP 409)."""

    def __init__(self, coverage: CoverageSnapshot, message: str) -> None:
        super().__init__("client_not_covered", message, "override_reason")
        self.coverage = coverage
