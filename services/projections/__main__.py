"""``python -m services.projections``: the HTTP API and the Kafka consumer in one process."""

from services.projections.bootstrap import main

main()
