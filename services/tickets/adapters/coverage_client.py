"""The projections service's coverage answer, over HTTP, with a deadline and a breaker.

* One pooled aiohttp ``ClientSession`` (HTTP/1.1 keep-alive connections) per process. Not
  httpx: its pool bookkeeping costs several times aiohttp's CPU per call, which on a busy
  process made lookups miss their deadline (figures: docs/decisions/performance.md).
* A hard deadline per call (``timeout``), so registration never hangs.
* Waiting for a ``min_position`` is bounded by the registration's deadline (``wait_timeout``)
  and holds no pooled connection while it waits: projections is asked with ``max_wait_ms=0``
  (answer at once, ``stale: true`` while the position is not reached) and asked again after a
  short pause, until the answer is fresh or the deadline has passed (then the last answer,
  stale, is what the ticket records). A server-side wait would keep one of the pool's
  connections busy for seconds: fifty such registrations exhausted the pool and every other
  lookup fell back to ``unknown`` (issue 15).
* A circuit breaker: after a few failures in a row the service is not called at all for a
  while; a dead projections service then costs nothing per request.
* Every failure becomes ``Unavailable(reason)``; the caller registers the ticket anyway.
* Each call carries this service's own ``service``-role bearer token (``token()``: minted
  from the shared secret and minted again before it expires, or a static one from settings).

A 404 with rule ``unknown_client`` is an answer (the client does not exist), not a failure.
The answer is read tolerantly: fields projections may add later are ignored. Its body is
decoded once, by pydantic-core straight from the bytes (``Answered``), whether or not a
``min_position`` wait looks at it first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import aiohttp
import orjson
from prometheus_client import Counter, Gauge, Histogram
from pydantic import BaseModel, ConfigDict, ValidationError

from services.tickets.adapters.circuit_breaker import CLOSED, HALF_OPEN, CircuitBreaker
from services.tickets.application.ports import ClientUnknown, CoverageLookup, Known, Unavailable
from shared.events.tickets import (
    ActivePeriod,
    CoverageSnapshot,
    CoverageStatus,
    CoverageWarning,
    MoneyTotal,
    OwedPeriod,
)
from shared.logging import get_logger

log = get_logger("tickets.coverage")

LOOKUPS = Counter("tickets_coverage_lookups_total", "Coverage lookups by outcome", ["outcome"])
OUTCOMES = {
    outcome: LOOKUPS.labels(outcome)
    for outcome in ("known", "unknown_client", "circuit_open", "timeout", "unreachable", "error", "bad_answer")
}
"""The counters bound once: ``labels()`` validates and locks on every call."""
LATENCY = Histogram(
    "tickets_coverage_lookup_seconds",
    "Coverage lookup latency (calls made)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5),
)
BREAKER = Gauge("tickets_coverage_circuit_open", "1 when the coverage circuit is open or half-open")


class CoverageAnswer(BaseModel):
    """What a ticket keeps of projections' coverage answer. Read from the body in one
    ``model_validate_json`` with ``extra="ignore"``: fields projections may add later, at any
    depth, are not this service's business (the parts themselves forbid extras when stored)."""

    model_config = ConfigDict(frozen=True)

    status: CoverageStatus
    on: date
    active_period: ActivePeriod | None = None
    owed: tuple[OwedPeriod, ...] | None = None
    warnings: tuple[CoverageWarning, ...] | None = None
    position: int | None = None
    stale: bool = False
    stale_reason: str | None = None


def read_answer(body: bytes) -> CoverageAnswer:
    """A 200's body → the answer (``ValidationError`` if it is not JSON or not a coverage)."""
    return CoverageAnswer.model_validate_json(body, extra="ignore")


def to_snapshot(answer: CoverageAnswer, checked_at: datetime) -> CoverageSnapshot:
    """Projections' coverage answer → the snapshot stored with the ticket."""
    owed = answer.owed or ()
    sums: dict[str, Decimal] = {}
    for o in owed:
        sums[o.currency] = sums.get(o.currency, Decimal("0.00")) + o.amount_due
    return CoverageSnapshot(
        status=answer.status,
        on=answer.on,
        active_period=answer.active_period,
        owed=owed,
        totals=tuple(MoneyTotal(amount=v, currency=k) for k, v in sorted(sums.items())),
        warnings=answer.warnings or (),
        source_position=answer.position,
        stale=answer.stale,
        checked_at=checked_at,
    )


@dataclass(frozen=True)
class Answered:
    """One answer of projections, its body decoded once (a 200's into ``answer``, or why not)."""

    status: int
    body: bytes
    answer: CoverageAnswer | None = None
    unreadable: ValidationError | None = None

    @classmethod
    def of(cls, status: int, body: bytes) -> Answered:
        if status != 200:
            return cls(status, body)
        try:
            return cls(status, body, answer=read_answer(body))
        except ValidationError as exc:
            return cls(status, body, unreadable=exc)

    @property
    def not_reached(self) -> bool:
        """Projections have not applied the ``min_position`` asked for (yet)."""
        if self.status == 404:
            return _rule(self.body) == "client_not_yet_projected"
        if self.answer is None or not self.answer.stale:
            return False
        # stale for another reason (the client's events stopped at one that cannot be applied):
        # asking again changes nothing
        return "min_position" in (self.answer.stale_reason or "min_position")


class HttpCoverageSource:
    """Ask projections for a client's coverage; never raises for a sick projections service."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 0.3,
        wait_timeout: float = 3.0,
        breaker: CircuitBreaker | None = None,
        max_connections: int = 50,
        keepalive_seconds: float = 4.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        token: Callable[[], str] | None = None,
    ) -> None:
        """``max_connections`` bounds the pool: a lookup beyond it waits for a free connection
        within its deadline, so size it for the registrations in flight. Idle connections are
        dropped after ``keepalive_seconds``, below uvicorn's 5 s keep-alive on the projections
        side, so the client rarely picks one the server is closing (and when it does, aiohttp
        retries the GET once on a new connection, inside the same deadline).

        Must be built inside the event loop (aiohttp binds the session to it).
        """
        self._base_url = base_url.rstrip("/")
        self._timeout, self._wait_timeout = timeout, wait_timeout
        self.breaker = breaker or CircuitBreaker()
        self._now = now
        self._token = token
        # No aiohttp timeout: ``asyncio.timeout`` in ``coverage`` is the one deadline. No
        # cookies: projections sets none, and a jar is work on every call.
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=keepalive_seconds),
            timeout=aiohttp.ClientTimeout(total=None),
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"Accept": "application/json", "User-Agent": "abonent-tickets"},
        )
        BREAKER.set_function(lambda: 0 if self.breaker.state == CLOSED else 1)

    async def close(self) -> None:
        await self._http.close()

    async def coverage(self, client_id: UUID, on: date, min_position: int | None) -> CoverageLookup:
        if not self.breaker.allow():
            OUTCOMES["circuit_open"].inc()
            return Unavailable("the projections service is unavailable (circuit open after repeated failures)")
        trial = self.breaker.state == HALF_OPEN
        path = f"/clients/{client_id}/coverage"
        params: dict[str, str] = {"on": on.isoformat()}
        if min_position is None:
            plain = await self._ask(path, params, self._timeout, trial)
            assert not isinstance(plain, _NotYet)  # only an ask with min_position can be "not yet"
            return plain
        params.update(min_position=str(min_position), max_wait_ms="0")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_timeout
        pause = POLL_FIRST_PAUSE
        while True:
            answer = await self._ask(path, params, deadline - loop.time(), trial, budget=self._wait_timeout)
            remaining = deadline - loop.time()
            if not isinstance(answer, _NotYet):
                return answer
            # another ask only if it has a whole lookup's time left; else the last answer,
            # stale, is what the ticket records
            if remaining - pause < self._timeout:
                return self._answer(answer.last, trial)
            await asyncio.sleep(pause)  # no connection is held meanwhile
            pause = min(pause * 2, POLL_MAX_PAUSE)

    async def _ask(
        self, path: str, params: dict[str, str], seconds: float, trial: bool, budget: float | None = None
    ) -> CoverageLookup | _NotYet:
        """One call within ``seconds``; ``budget``: the whole deadline named in a timeout's reason."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(max(seconds, 0.0)):
                status, body = await self._get(path, params)
        except TimeoutError:
            deadline = budget if budget is not None else seconds
            return self._failed(
                "timeout", f"the projections service did not answer within {deadline * 1000:.0f} ms", trial
            )
        except aiohttp.ClientError as exc:
            return self._failed("unreachable", f"the projections service is unreachable ({type(exc).__name__})", trial)
        finally:
            LATENCY.observe(time.perf_counter() - started)
        answered = Answered.of(status, body)
        if "min_position" in params and answered.not_reached:
            self.breaker.record_success()  # it answered: not a failure, just not there yet
            return _NotYet(answered)
        return self._answer(answered, trial)

    async def _get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        """(status, body): the whole body is read here, inside the caller's deadline."""
        headers = {"Authorization": f"Bearer {self._token()}"} if self._token is not None else None
        async with self._http.get(self._base_url + path, params=params, headers=headers) as response:
            return response.status, await response.read()

    def _answer(self, answered: Answered, trial: bool) -> CoverageLookup:
        status, body = answered.status, answered.body
        if status == 404 and _rule(body) == "unknown_client":
            self.breaker.record_success()
            OUTCOMES["unknown_client"].inc()
            return ClientUnknown()
        if status in (401, 403):
            return self._failed(
                "error",
                f"the projections service refused this service's token (HTTP {status}: {_message(body)})",
                trial,
            )
        if status != 200:
            return self._failed("error", f"the projections service answered HTTP {status}", trial)
        if answered.answer is None:
            exc = answered.unreadable
            if exc is not None and exc.errors()[0]["type"] == "json_invalid":
                return self._failed(
                    "bad_answer", "the projections service answered with a body that is not JSON", trial
                )
            log.error("unreadable coverage answer", error=str(exc)[:500])
            return self._failed(
                "bad_answer", "the projections service answered with a coverage this service cannot read", trial
            )
        snapshot = to_snapshot(answered.answer, self._now())
        self.breaker.record_success()
        OUTCOMES["known"].inc()
        if trial:
            log.info("coverage circuit closed: projections answer again")
        return Known(snapshot)

    def _failed(self, outcome: str, reason: str, trial: bool) -> Unavailable:
        was = self.breaker.state
        self.breaker.record_failure()
        OUTCOMES[outcome].inc()
        if trial or (was == CLOSED and self.breaker.state != CLOSED):
            log.warning("coverage circuit open: registering tickets with unknown coverage", reason=reason)
        else:
            log.info("coverage lookup failed", reason=reason)
        return Unavailable(reason)


POLL_FIRST_PAUSE = 0.02
POLL_MAX_PAUSE = 0.25
"""Pauses between the asks of a ``min_position`` wait: 20, 40, 80, 160, 250, 250 … ms."""


@dataclass(frozen=True)
class _NotYet:
    """Projections answered, but has not applied ``min_position`` yet; this answer is what the
    ticket records if the deadline passes before it has."""

    last: Answered


def _message(body: bytes) -> str:
    try:
        return str(orjson.loads(body)["errors"][0]["message"])[:200]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return "no reason given"


def _rule(body: bytes) -> str | None:
    try:
        return orjson.loads(body)["errors"][0]["rule"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
