"""A ceiling for the write path's HTTP shell: the contracts service's record-payment route with
everything the services share in front of it and nothing behind it.

The app is ``shared.http.app.create_service_app`` served by ``shared.http.server.serve``, as
every service is: uvicorn on uvloop and httptools, the request limits, correlation ids, the
catch-all, idempotency keys, bearer authentication with the role check, the body's validation
and the answer's serialisation. Its one route has the signature of contracts'
``POST /contracts/{contract_id}/periods/{period_id}/payments`` (the same path, schemas and
dependencies) and builds the same domain command, then answers 201 without the database, the
aggregate or the event store. So the commands/s the write path reaches can be read as a share
of what this shell alone does on the same cores, and its CPU per request is the part of each
command's CPU no change behind the route can remove (issue 20: "less per-request work in the
HTTP shell").

    python -m bench.http_ceiling --port 8099     # serves (the bench starts it with the stack's env)

``measure_shell`` starts it, drives it with the capacity probe's 32 clients back to back for
``seconds`` and returns (requests/s, the server's CPU ms per request).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
import uuid
from uuid import UUID

import typer
from fastapi import APIRouter, FastAPI, Response

from bench.environment import cpu_of, free_port
from bench.http import HttpPool
from bench.loadgen import closed_loop
from bench.measure import CAPACITY_CLIENTS
from deploy.local.layout import REPO
from services.contracts.domain import commands as cmd
from services.contracts.entrypoints.http import schemas as s
from services.contracts.entrypoints.http.deps import Contracts, LatestPaidOn
from shared.auth import Role, allow
from shared.http.app import create_service_app
from shared.http.commands import Context
from shared.http.idempotency import IDEMPOTENT

PATH = "/contracts/{contract_id}/periods/{period_id}/payments"


def shell_app() -> FastAPI:
    router = APIRouter()
    positions = itertools.count(1)

    @router.post(
        PATH,
        status_code=201,
        response_model=s.PaymentCreated,
        dependencies=[allow(Role.ACCOUNTANT, Role.INTEGRATION), IDEMPOTENT],
    )
    async def record_payment(
        contract_id: UUID,
        period_id: UUID,
        body: s.RecordPaymentRequest,
        app: Contracts,
        ctx: Context,
        latest_paid_on: LatestPaidOn,
        response: Response,
    ) -> s.PaymentCreated:
        command = cmd.RecordPayment(
            contract_id, period_id, uuid.uuid4(), body.paid_on, body.amount, body.reference, latest_paid_on
        )
        return s.PaymentCreated(payment_id=command.payment_id, position=next(positions))

    app = create_service_app(
        title="HTTP shell ceiling", description="The shared shell, no database.", routers=[router], checks={}
    )
    app.state.contracts = None
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
