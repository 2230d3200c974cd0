"""``python -m services.contracts``: the contracts HTTP service (with its outbox relay)."""

from services.contracts.bootstrap import ContractsSettings, create_app
from shared.http.server import serve

if __name__ == "__main__":
    settings = ContractsSettings()  # type: ignore[call-arg]
    serve(create_app(settings), settings.http_host, settings.http_port)
