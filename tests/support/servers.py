"""Run a service's ASGI app on a real socket inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from tests.support.auth import app_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving(
    app, port: int | None = None, *, role: str | None = "admin", sub: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app`` with uvicorn (lifespan included), yield a client for it, stop it.

    The client sends a bearer token with ``role`` (default ``admin``, who may do everything),
    signed with the app's own HS256 secret; ``role=None`` sends none. One request can act
    as someone else with ``headers=tests.support.auth.bearer("dispatcher")``."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            # longer than any pause between a test's requests: a
            # client reusing a connection the server has just
            # closed (uvicorn's default is 5 s) gets a disconnect
            timeout_keep_alive=120,
        )
    )
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        if loop.time() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.05)
    try:
        signed = app_token(app, role, sub) if role is not None else None
        headers = {"Authorization": f"Bearer {signed}"} if signed else None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=headers) as client:
            yield client
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 15)
        except TimeoutError:  # a connection that never closes must not hang the suite
            server.force_exit = True
            await asyncio.wait_for(task, 15)
