"""Domain errors of the contracts core (the shared hierarchy; see ``shared.domain_errors``)."""

from shared.domain_errors import Conflict, DomainError, NotFound, RuleViolated

__all__ = ["Conflict", "DomainError", "NotFound", "RuleViolated"]
