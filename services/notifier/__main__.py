"""``python -m services.notifier``: the Kafka consumer that sends the e-mails, and its HTTP API."""

from services.notifier.bootstrap import NotifierSettings, create_app
from shared.http.server import serve

if __name__ == "__main__":
    settings = NotifierSettings()  # type: ignore[call-arg]
    serve(create_app(settings), settings.http_host, settings.http_port)
