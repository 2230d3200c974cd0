"""``python -m services.contracts``: the contracts HTTP service (with its outbox relay)."""

from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from shared.http.server import serve
from shared.settings import load_or_exit

if __name__ == "__main__":
    settings = load_or_exit(ContractsSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)
