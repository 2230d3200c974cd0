"""The tickets core's own refusal; the others are the shared ones (``shared.domain_errors``).

``shared.http.errors`` maps every refusal (Conflict → 409); the registration route answers
NotCovered itself: 409 with the coverage the refusal was based on.
"""

from __future__ import annotations

from shared.domain_errors import Conflict
from shared.events.tickets import CoverageSnapshot


class NotCovered(Conflict):
    """Policy ``block``: the client is not covered and no override reason was given (HTTP 409)."""

    def __init__(self, coverage: CoverageSnapshot, message: str) -> None:
        super().__init__("client_not_covered", message, "override_reason")
        self.coverage = coverage
