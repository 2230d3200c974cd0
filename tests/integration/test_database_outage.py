"""PostgreSQL unreachable (issue 15): a request answers 503 with Retry-After at once — no
hang, no plain-text 500 — and the service recovers by itself when the database is back.
The contracts service reaches the real PostgreSQL through a proxy the test cuts and restores;
readiness says "not ready" meanwhile."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from tests.support.servers import serving
from tests.support.tcp_proxy import TcpProxy, through


async def test_database_down_answers_503_fast_and_recovers(stack):
    target = urlsplit(stack.database_urls["contracts"])
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    settings = ContractsSettings(
        database_url=through(stack.database_urls["contracts"], proxy.port),
        http_port=0,
        kafka={"bootstrap_servers": stack.kafka_bootstrap},
        run_relay=False,
        # as deployed (deploy/local/services.py): the console renderer draws asyncpg's logged
        # tracebacks with their locals, seconds per line on a loaded machine
        log={"format": "json"},
    )
    body = {"name": "Outage", "manager_name": "M", "manager_email": "m@example.com"}
    async with serving(create_app(settings)) as api:
        assert (await api.post("/clients", json=body)).status_code == 201

        await proxy.cut()
        for _ in range(3):  # a pooled connection that broke, then new ones refused
            started = time.monotonic()
            r = await api.post("/clients", json=body)
            assert time.monotonic() - started < 5, "a 503 must come at once, not after a connect timeout"
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["rule"] == "dependency_unavailable" and int(r.headers["retry-after"]) > 0
            r = await api.get(f"/contracts/{uuid.uuid4()}")
            assert r.status_code == 503, r.text
        assert (await api.get("/health/ready")).status_code == 503

        await proxy.start()
        r = await api.post("/clients", json=body)
        assert r.status_code == 201, r.text
        assert (await api.get(f"/clients/{r.json()['id']}")).status_code == 200
        assert (await api.get("/health/ready")).status_code == 200
    await proxy.cut()
