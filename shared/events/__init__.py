"""Event schemas shared by every service.

Importing this package registers every payload model: the internal ones in
``shared.events.base.registry`` (contracts and schedule topics) and the public feed's in
``shared.events.payments.public_registry``.
"""

from shared.events import contracts, payments, schedule  # importing them registers the models
from shared.events.base import EventData, EventRegistry, UnknownEventType, registry
from shared.events.payments import public_registry, to_public

__all__ = [
    "EventData",
    "EventRegistry",
    "UnknownEventType",
    "registry",
    "public_registry",
    "to_public",
    "contracts",
    "schedule",
    "payments",
]
