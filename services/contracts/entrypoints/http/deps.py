"""What the routes get from the app (``Depends``): the application and the company's clock.

``bootstrap.create_app`` puts them on ``app.state``; routes name them as typed parameters.

Each is ``async``: FastAPI runs a plain ``def`` dependency in its thread pool (a thread
hand-off on every request).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from services.contracts.application.commands import ContractsApplication
from shared.calendar import CompanyCalendar


async def contracts_app(request: Request) -> ContractsApplication:
    return request.app.state.contracts


async def company_calendar(request: Request) -> CompanyCalendar:
    return request.app.state.calendar


async def latest_paid_on(request: Request) -> date | None:
    """Tomorrow in the company's zone (None where the installation allows any date)."""
    return request.app.state.latest_paid_on()


async def future_ticks_allowed(request: Request) -> bool:
    return bool(request.app.state.allow_future_ticks)


Contracts = Annotated[ContractsApplication, Depends(contracts_app)]
Calendar = Annotated[CompanyCalendar, Depends(company_calendar)]
LatestPaidOn = Annotated[date | None, Depends(latest_paid_on)]
FutureTicksAllowed = Annotated[bool, Depends(future_ticks_allowed)]
