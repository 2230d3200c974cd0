"""``python -m services.projections``: the HTTP API and the Kafka consumer in one process.

``python -m services.projections migrate`` applies its SQL migrations and exits (shared.service_cli).
"""

from services.projections.bootstrap import create_app
from services.projections.settings import ProjectionsSettings
from shared.service_cli import service_cli

cli = service_cli(
    "projections",
    ProjectionsSettings,
    create_app,
    what="The projections service: its HTTP API and the Kafka consumer in one process.",
)

if __name__ == "__main__":
    cli(prog_name="python -m services.projections")
