"""A cheap "can I talk to Kafka?" check for readiness endpoints."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka_security import client_options
from shared.settings import KafkaSettings


class KafkaProbe:
    """Keeps one admin client and asks the cluster for its metadata on each check."""

    def __init__(self, kafka: KafkaSettings, timeout: float = 2.0) -> None:
        self._kafka = kafka
        self._timeout = timeout
        self._admin: AIOKafkaAdminClient | None = None

    async def __call__(self) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(**client_options(self._kafka), request_timeout_ms=2000)
            await asyncio.wait_for(admin.start(), self._timeout)
            self._admin = admin
        try:
            await asyncio.wait_for(self._admin.describe_cluster(), self._timeout)
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                await admin.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
