"""Domain refusals every service shares: a stable machine ``rule``, the ``field``, a ``message``.

Entrypoints map them: RuleViolated → 422, NotFound → 404, Conflict → 409
(``shared.http.errors``, registered once for every app). Pure: importable from any domain core.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses. ``rule`` is a stable code such as ``period_overlap``."""

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
    """Something the command names does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The thing to create already exists, or the state forbids it now (HTTP 409)."""
