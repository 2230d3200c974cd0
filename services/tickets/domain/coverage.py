"""What a dispatcher is told about coverage, and when the policy refuses a registration.

The coverage itself is computed by the projections service; here we only decide what to do
with its answer (or with its absence):

* projections could not answer → status ``unknown`` with ``COVERAGE_UNKNOWN``: the ticket is
  registered anyway (docs/design.md §4 — a ticket is never lost);
* projections have no event of the client (new, not projected yet, or a mistyped id) → status
  ``unknown`` with ``CLIENT_NOT_FOUND``: registered anyway, never refused (issue 12 case 13);
* projections answered before applying the position we asked for → ``COVERAGE_STALE``;
* policy ``block`` and status ``not_covered`` → refused unless an override reason is given.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.events.tickets import CoverageSnapshot, CoverageWarning, NotCoveredPolicy

COVERAGE_UNKNOWN = "COVERAGE_UNKNOWN"
COVERAGE_STALE = "COVERAGE_STALE"
CLIENT_NOT_FOUND = "CLIENT_NOT_FOUND"


def unknown_coverage(on: date, reason: str, checked_at: datetime) -> CoverageSnapshot:
    return CoverageSnapshot(
        status="unknown",
        on=on,
        checked_at=checked_at,
        warnings=(
            CoverageWarning(
                code=COVERAGE_UNKNOWN,
                message=f"coverage on {on.isoformat()} could not be checked ({reason}); the ticket is "
                "registered — check the client's contract and payments before providing "
                "service",
            ),
        ),
    )


def client_not_found(client_id: object, on: date, checked_at: datetime) -> CoverageSnapshot:
    return CoverageSnapshot(
        status="unknown",
        on=on,
        checked_at=checked_at,
        warnings=(
            CoverageWarning(
                code=CLIENT_NOT_FOUND,
                message=f"client {client_id} is not known to the coverage records (yet): coverage on "
                f"{on.isoformat()} could not be checked; the ticket is registered — check the "
                "client id and the client's contract before providing service",
            ),
        ),
    )


def noted(snapshot: CoverageSnapshot) -> CoverageSnapshot:
    """The snapshot with a warning when the answer may miss the latest contract changes."""
    if not snapshot.stale or any(w.code == COVERAGE_STALE for w in snapshot.warnings):
        return snapshot
    warning = CoverageWarning(
        code=COVERAGE_STALE,
        message="coverage may be out of date: the latest changes to the client's contracts were "
        "not yet applied when it was checked",
    )
    return snapshot.model_copy(update={"warnings": (*snapshot.warnings, warning)})


def refusal(
    snapshot: CoverageSnapshot, policy: NotCoveredPolicy, override_reason: str | None, client_id: object
) -> str | None:
    """The reason to refuse the registration, or None to register it."""
    if policy != "block" or snapshot.status != "not_covered" or override_reason:
        return None
    reasons = "; ".join(w.message for w in snapshot.warnings) or "no active service period"
    return (
        f"client {client_id} is not covered on {snapshot.on.isoformat()}: {reasons}. "
        "Registration of tickets for clients without coverage is blocked; give "
        "override_reason to register it anyway"
    )
