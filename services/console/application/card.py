"""The client card: everything about one client in two rounds of concurrent calls.

Round one (at once): the client (projections), its contracts (projections' list), today's
coverage (projections), its tickets (tickets). Round two (at once): each contract's periods and
payments (contracts). So the page costs the slowest call of each round, not their sum. A
contract's history is not part of the card: it is read when the person opens it
(``contract_history``), which halves the calls to contracts and the rendering of every card
(bench/README.md, "The client card"). Each part the person may not read is not asked for; a
part whose service is down is reported as such and the rest of the card is still shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from services.console.application.access import may
from services.console.application.ports import Apis, Json, Refused, ServiceDown, SignInAgain, User
from shared.owed import due_on

T = TypeVar("T")


@dataclass
class Card:
    client: Json | None = None
    coverage: Json | None = None
    contracts: list[Json] = field(default_factory=list)
    tickets: list[Json] = field(default_factory=list)
    down: dict[str, str] = field(default_factory=dict)
    """service -> reason, for every part that could not be read."""
    missing: bool = False
    """The client is unknown (to the read model)."""


async def _part(card: Card, call: Awaitable[T]) -> T | None:
    try:
        return await call
    except ServiceDown as exc:
        card.down[exc.service] = exc.reason
        return None


def _period(p: Json) -> Json:
    amount, paid = Decimal(p["amount"]), Decimal(p.get("paid_amount") or "0")
    starts, ends = date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"])
    return {
        **p,
        "due_on": due_on(p["payment_terms"], starts, ends).isoformat(),
        "owed_amount": str(max(amount - paid, Decimal(0)).quantize(amount)),
        "payments": [x for x in p.get("payments", []) if not x.get("cancelled")],
        "cancelled_payments": [x for x in p.get("payments", []) if x.get("cancelled")],
    }


async def client_card(apis: Apis, user: User, client_id: str, on: date, min_position: int | None = None) -> Card:
    """Raises ``SignInAgain``; ``Refused`` 404 marks the card ``missing``."""
    card = Card()
    wait = {"min_position": str(min_position)} if min_position is not None else {}

    async def nothing() -> None:
        return None

    try:
        client, listed, coverage, tickets = await asyncio.gather(
            _part(card, apis.projections.client(user, client_id, wait)),
            _part(card, apis.projections.contracts(user, {"client_id": client_id, "page_size": "100", **wait}))
            if may(user, "read_contracts")
            else _part(card, nothing()),
            _part(card, apis.projections.coverage(user, client_id, {"on": on.isoformat(), **wait}))
            if may(user, "read_coverage")
            else _part(card, nothing()),
            _part(card, apis.tickets.tickets(user, {"client_id": client_id, "page_size": "20"}))
            if may(user, "read_tickets")
            else _part(card, nothing()),
        )
    except Refused as exc:
        if exc.status == 404:
            card.missing = True
            return card
        raise
    card.client, card.coverage = client, coverage
    card.tickets = (tickets or {}).get("items", [])
    ids = [c["contract_id"] for c in (listed or {}).get("items", [])]

    async def one(contract_id: str) -> Json | None:
        view = await _part(card, apis.contracts.contract(user, contract_id))
        if view is None:
            return None
        periods = [_period(p) for p in view.get("periods", []) if not p.get("void")]
        return {**view, "periods": periods}

    found = await asyncio.gather(*(one(i) for i in ids))
    card.contracts = [c for c in found if c is not None]
    return card


async def contract_history(apis: Apis, user: User, contract_id: str) -> list[Json]:
    """Who did what, when, to one contract: newest first."""
    events = await apis.contracts.events(user, contract_id)
    items: list[Any] = list(reversed(events.get("items", [])))
    return items


__all__ = ["Card", "SignInAgain", "client_card", "contract_history"]
