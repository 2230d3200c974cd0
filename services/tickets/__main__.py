"""``python -m services.tickets``: the tickets HTTP service (with its outbox relay unless TICKETS_RUN_RELAY=false).

``python -m services.tickets migrate`` applies its SQL migrations and exits (shared.service_cli).
"""

from services.tickets.bootstrap import create_app
from services.tickets.settings import TicketsSettings
from shared.service_cli import service_cli

cli = service_cli(
    "tickets",
    TicketsSettings,
    create_app,
    what="The tickets HTTP service (with its outbox relay unless TICKETS_RUN_RELAY=false).",
)

if __name__ == "__main__":
    cli(prog_name="python -m services.tickets")
