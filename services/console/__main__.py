"""``python -m services.console``: the people's console (server-rendered pages over the services' APIs)."""

from services.console.bootstrap import create_app
from services.console.settings import ConsoleSettings
from shared.http.server import serve
from shared.settings import load_or_exit

if __name__ == "__main__":
    settings = load_or_exit(ConsoleSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)
