"""``python -m services.notifier``: the Kafka consumer that sends the e-mails, and its HTTP API."""

import uvicorn

from services.notifier.bootstrap import NotifierSettings, create_app

if __name__ == "__main__":
    settings = NotifierSettings()  # type: ignore[call-arg]
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False)
