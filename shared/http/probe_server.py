"""``/health/*`` and ``/metrics`` for a process that has no HTTP API of its own (the scheduler,
the standalone outbox relay), so Kubernetes can probe it and Prometheus scrape it.

The same ``health_router`` as the services: liveness = the event loop answers; readiness = the
given checks pass. It runs as a task on the process's own event loop, so a loop that is stuck
stops answering and the liveness probe notices.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI

from shared.http.observability import ReadinessCheck, health_router


def probe_app(title: str, checks: dict[str, ReadinessCheck]) -> FastAPI:
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(checks))
    return app


class _ProbeServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The process handles SIGTERM/SIGINT itself (its loop stops, then this server)."""
        yield


@asynccontextmanager
async def probe_server(title: str, host: str, port: int, checks: dict[str, ReadinessCheck]) -> AsyncIterator[None]:
    """Serve the probes for the duration of the block; a port that cannot be bound stops the
    process (uvicorn exits on it)."""
    config = uvicorn.Config(
        probe_app(title, checks), host=host, port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = _ProbeServer(config)
    task = asyncio.create_task(server.serve(), name=f"{title}-probes")
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError(f"{title}: the probes on {host}:{port} stopped before they started")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task
