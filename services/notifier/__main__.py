"""``python -m services.notifier``: the Kafka consumer that sends the e-mails, and its HTTP API."""

from services.notifier.bootstrap import create_app
from services.notifier.settings import NotifierSettings
from shared.http.server import serve
from shared.settings import load_or_exit

if __name__ == "__main__":
    settings = load_or_exit(NotifierSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)
