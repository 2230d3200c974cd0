"""``python -m services.projections``: the HTTP API and the Kafka consumer in one process."""

from services.projections.bootstrap import create_app
from services.projections.settings import ProjectionsSettings
from shared.http.server import serve
from shared.settings import load_or_exit

if __name__ == "__main__":
    settings = load_or_exit(ProjectionsSettings)
    serve(create_app(settings), settings.http_host, settings.http_port)
