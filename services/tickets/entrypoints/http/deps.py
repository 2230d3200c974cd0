"""What routes need from the request: the applications, who/why for the events, error mapping."""

from __future__ import annotations

from fastapi import Request

from services.tickets.application.price_list import PriceListApplication
from services.tickets.application.tickets import TicketsApplication
from shared.http.commands import command_context, domain_errors

__all__ = ["command_context", "domain_errors", "price_list_app", "tickets_app"]


def tickets_app(request: Request) -> TicketsApplication:
    return request.app.state.tickets


def price_list_app(request: Request) -> PriceListApplication:
    return request.app.state.price_list
