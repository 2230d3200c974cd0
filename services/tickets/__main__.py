"""``python -m services.tickets``: the tickets HTTP service (with its outbox relay)."""

from services.tickets.bootstrap import TicketsSettings, create_app
from shared.http.server import serve

if __name__ == "__main__":
    settings = TicketsSettings()  # type: ignore[call-arg]
    serve(create_app(settings), settings.http_host, settings.http_port)
