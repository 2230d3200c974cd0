"""``python -m services.contracts``: the contracts HTTP service (with its outbox relay)."""

import uvicorn

from services.contracts.bootstrap import ContractsSettings, create_app

if __name__ == "__main__":
    settings = ContractsSettings()  # type: ignore[call-arg]
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False)
