"""A ceiling for the write path's HTTP shell: the contracts service's routes with everything the
services share in front of them and nothing behind them.

The app is ``shared.http.app.create_service_app`` with contracts' own routers, served by
``shared.http.server.serve``, as the service is: uvicorn on uvloop and httptools, the request
limits, correlation ids, the catch-all, idempotency keys, bearer authentication with the role
check, the route's body validation, its domain command and the answer's serialisation. Only
the application behind the routes is replaced: its ``record_payment`` answers at once, without
the database, the aggregate or the event store. So the commands/s the write path reaches can be
read as a share of what the shell alone does on the same cores, and its CPU per request is the
part of each command's CPU no change behind the route can remove (issue 20: "less per-request
work in the HTTP shell").

    python -m bench.http_ceiling --port 8099     # serves (the bench starts it with the stack's env)

``measure_shell`` starts it, drives ``POST /contracts/{id}/periods/{id}/payments`` with the
capacity probe's 32 clients back to back for ``seconds`` and returns (requests/s, the server's
CPU ms per request).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
import uuid

import typer
from fastapi import FastAPI

from bench.environment import cpu_of, free_port
from bench.http import HttpPool
from bench.loadgen import closed_loop
from bench.measure import CAPACITY_CLIENTS
from deploy.local.layout import REPO
from services.contracts.application.commands import CommandWritten
from services.contracts.domain.commands import RecordPayment
from services.contracts.entrypoints.http.invoice_routes import router as invoice_router
from services.contracts.entrypoints.http.routes import router
from services.contracts.entrypoints.http.statement_routes import router as statement_router
from shared.eventstore.records import CommandContext
from shared.http.app import create_service_app

PATH = "/contracts/{contract_id}/periods/{period_id}/payments"


class NothingBehind:
    """The application's ``record_payment`` without its work: the payment is "recorded" at
    the next position, nothing is read or written."""

    def __init__(self) -> None:
        self._positions = itertools.count(1)

    async def record_payment(self, command: RecordPayment, ctx: CommandContext) -> CommandWritten:
        return CommandWritten(command.payment_id, next(self._positions))


def shell_app() -> FastAPI:
    app = create_service_app(
        title="HTTP shell ceiling",
        description="Contracts' routes and the shared shell, nothing behind them.",
        routers=[router, invoice_router, statement_router],
        checks={},
    )
    app.state.contracts = NothingBehind()
    app.state.latest_paid_on = lambda: None
    return app


def main(port: int = typer.Option(..., help="where to serve")) -> None:
    from shared.http.server import serve

    serve(shell_app(), "127.0.0.1", port)


async def _ready(pool: HttpPool, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the HTTP shell ceiling exited with {proc.returncode}")
        try:
            if (await pool.request("GET", "/health/ready"))[0] == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the HTTP shell ceiling did not answer /health/ready")


async def measure_shell(env: dict[str, str], token: str, paid_on: str, seconds: float) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) of the shell on a free port, started with ``env``
    (the stack's: its token secret) and driven with ``token`` (an accountant's)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.http_ceiling", "--port", str(port)],
        env={**os.environ, **env, "ABONENT_LOG_LEVEL": "WARNING"},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool = HttpPool(f"http://127.0.0.1:{port}", size=2 * CAPACITY_CLIENTS, token=token)
    try:
        await _ready(pool, proc)
        body = {"amount": "1.00", "paid_on": paid_on}

        async def op(i: int) -> object:
            path = PATH.format(contract_id=uuid.uuid4(), period_id=uuid.uuid4())
            return await pool.json("POST", path, json=body, expect=(201,))

        await closed_loop(op, CAPACITY_CLIENTS, 1.0)  # warm-up: connections, caches
        before = cpu_of(proc.pid) or 0.0
        result = await closed_loop(op, CAPACITY_CLIENTS, seconds)
        used = (cpu_of(proc.pid) or 0.0) - before
    finally:
        await pool.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if result.ok == 0 or result.errors:
        raise RuntimeError(f"the HTTP shell ceiling refused requests: {dict(result.errors)}")
    return result.throughput, 1000 * used / result.ok


if __name__ == "__main__":
    typer.run(main)
