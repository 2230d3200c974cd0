"""What a person may do and read, by role — the services' own role table (shared.auth, issue 13),
so the console offers only what the APIs would accept. ``admin`` may do everything."""

from __future__ import annotations

from services.console.application.ports import User

MAY: dict[str, tuple[str, ...]] = {
    # reads
    "search_clients": ("dispatcher", "manager", "accountant", "integration"),
    "read_coverage": ("dispatcher", "manager", "integration"),
    "read_contracts": ("manager", "accountant", "integration"),
    "read_history": ("manager",),
    "read_tickets": ("dispatcher", "manager"),
    "read_debtors": ("manager", "accountant", "integration"),
    "read_income": ("manager", "accountant", "integration"),
    "read_notifications": ("manager",),
    "read_price_list": ("dispatcher", "manager"),
    # actions
    "register_client": ("manager",),
    "open_contract": ("manager",),
    "add_periods": ("manager",),
    "terminate": ("manager",),
    "record_payment": ("accountant", "integration"),
    "cancel_payment": ("accountant",),
    "register_ticket": ("dispatcher",),
    "add_ticket_item": ("dispatcher",),
    "retry_notification": (),
}


def may(user: User, what: str) -> bool:
    return user.has(*MAY[what])


def allowed(user: User) -> dict[str, bool]:
    """Every capability of ``MAY`` for this person (what templates test with ``can.x``)."""
    return {what: may(user, what) for what in MAY}


def home(user: User) -> str:
    """Where a person lands after signing in: the page of their daily work."""
    if user.has("manager"):
        return "/clients"
    if user.has("dispatcher"):
        return "/tickets/new"
    if user.has("accountant", "integration"):
        return "/debtors"
    return "/clients"
