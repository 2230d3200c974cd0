"""An invoice document as the scheduler issues one: the fixture the PDF and mail tests share."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from shared.events import contracts as ev


def invoice_document(**fields: Any) -> ev.InvoiceDocument:
    """A prepaid quarter's invoice in roubles; ``fields`` replace any of its values."""
    values: dict[str, Any] = {
        "invoice_id": uuid.uuid4(),
        "number": "2026-000042",
        "issued_on": date(2026, 3, 22),
        "due_on": date(2026, 4, 1),
        "seller": ev.Party(name="ООО «Абонент Сервис»", tax_id="7701234567", bank_account="р/с 40702810900000000001"),
        "buyer": ev.Party(name="ООО «Ромашка»", tax_id="7712345678"),
        "contract_id": uuid.uuid4(),
        "contract_number": "A-17",
        "contract_title": "Обслуживание",
        "contract_signed_on": date(2025, 12, 20),
        "period_id": uuid.uuid4(),
        "starts_on": date(2026, 4, 1),
        "ends_on": date(2026, 6, 30),
        "payment_terms": "prepaid",
        "amount": Decimal("30000.00"),
        "currency": "RUB",
    }
    return ev.InvoiceDocument(**(values | fields))
