"""``python -m services.tickets``: the tickets HTTP service (with its outbox relay)."""

import uvicorn

from services.tickets.bootstrap import TicketsSettings, create_app

if __name__ == "__main__":
    settings = TicketsSettings()  # type: ignore[call-arg]
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False)
