"""``python -m services.tickets``: the tickets HTTP service (with its outbox relay)."""

from services.tickets.bootstrap import create_app
from services.tickets.settings import TicketsSettings
from shared.http.server import serve
from shared.settings import load_or_exit

if __name__ == "__main__":
    settings = load_or_exit(TicketsSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)
