"""``python -m services.contracts``: the contracts HTTP service (and its outbox relay unless switched off).

``python -m services.contracts migrate`` applies its SQL migrations and exits (shared.service_cli).
"""

from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from shared.service_cli import service_cli

cli = service_cli(
    "contracts",
    ContractsSettings,
    create_app,
    what="The contracts HTTP service (with its outbox relay unless CONTRACTS_RUN_RELAY=false).",
)

if __name__ == "__main__":
    cli(prog_name="python -m services.contracts")
