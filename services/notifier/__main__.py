"""``python -m services.notifier``: the Kafka consumer that sends the e-mails, and its HTTP API.

``python -m services.notifier migrate`` applies its SQL migrations and exits (shared.service_cli).
"""

from services.notifier.bootstrap import create_app
from services.notifier.settings import NotifierSettings
from shared.service_cli import service_cli

cli = service_cli(
    "notifier",
    NotifierSettings,
    create_app,
    what="The notifier: the Kafka consumer that sends the e-mails, and its HTTP API.",
)

if __name__ == "__main__":
    cli(prog_name="python -m services.notifier")
