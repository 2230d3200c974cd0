"""Who is calling: the verified token's subject, display name and roles (issue 13 table)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    """Register tickets, add ticket items, read coverage, tickets, the price list."""
    MANAGER = "manager"
    """Clients, contracts, periods, terminations; read everything except notifications' bodies."""
    ACCOUNTANT = "accountant"
    """Payments (record, cancel, import), debtors, income, contracts list."""
    ADMIN = "admin"
    """Everything, including the scheduler tick, notifications retry, the price list."""
    INTEGRATION = "integration"
    """Another internal system: record payments, read coverage, debtors, income, contracts."""
    SERVICE = "service"
    """One Abonent service calling another (tickets -> projections coverage)."""


ROLES = frozenset(r.value for r in Role)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable()).strip()


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    name: str | None = None

    @property
    def actor(self) -> str:
        """What events record as their ``actor``: the subject, and the name when given."""
        sub, name = _printable(self.sub), _printable(self.name or "")
        return f"{sub} ({name})" if name and name != sub else sub

    def may(self, allowed: frozenset[str]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & allowed)
