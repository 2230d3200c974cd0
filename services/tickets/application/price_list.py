"""Managing the price list: define (create or replace by code) and list items."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from services.tickets.application.ports import PriceList, StoredPriceItem
from services.tickets.domain.price_list import define_item


class PriceListApplication:
    def __init__(self, price_list: PriceList) -> None:
        self._price_list = price_list

    async def define(
        self, code: str, name: str, unit: str, price: Decimal, currency: str, active: bool = True
    ) -> tuple[StoredPriceItem, bool]:
        """The stored item and True when it was created (False: replaced or unchanged)."""
        return await self._price_list.define(define_item(code, name, unit, price, currency, active))

    async def items(self, active: bool | None = None) -> Sequence[StoredPriceItem]:
        return await self._price_list.items(active)
