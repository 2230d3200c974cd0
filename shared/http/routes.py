"""The app's routes as a flat table, for what must know a request's route before routing does
(``Allow`` on a 405, whether a POST takes an ``Idempotency-Key``).

FastAPI 0.16x keeps an included router as one lazily-resolved entry in ``app.router.routes``,
so the table is made from the routers ``create_service_app`` includes (none has a prefix).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from re import Pattern

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import compile_path


@dataclass(frozen=True)
class RouteEntry:
    path: Pattern[str]
    methods: frozenset[str]
    route: APIRoute


def route_table(routers: Iterable[APIRouter]) -> list[RouteEntry]:
    table = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                regex, _, _ = compile_path(route.path)
                table.append(RouteEntry(regex, frozenset(route.methods or ()), route))
    return table


def matching(table: Iterable[RouteEntry], path: str) -> list[RouteEntry]:
    """Every route whose path matches, whatever its method."""
    return [entry for entry in table if entry.path.match(path)]
