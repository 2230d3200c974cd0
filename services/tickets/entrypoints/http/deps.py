"""What the routes get from the app (``Depends``): the applications ``bootstrap.create_app`` wired.

Each is ``async``: FastAPI runs a plain ``def`` dependency in its thread pool (a thread
hand-off on every request).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.tickets.application.price_list import PriceListApplication
from services.tickets.application.tickets import TicketsApplication


async def tickets_app(request: Request) -> TicketsApplication:
    return request.app.state.tickets


async def price_list_app(request: Request) -> PriceListApplication:
    return request.app.state.price_list


Tickets = Annotated[TicketsApplication, Depends(tickets_app)]
PriceLists = Annotated[PriceListApplication, Depends(price_list_app)]
