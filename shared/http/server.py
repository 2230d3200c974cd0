"""Run a service's ASGI app: one way for every service, tuned for throughput.

uvloop for the event loop and httptools (C) for HTTP/1.1 parsing instead of uvicorn's
pure-Python h11 fallback: less CPU per request (docs/decisions/performance.md).
"""

from __future__ import annotations

from typing import Any

from shared.runtime import tune_gc


def serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    tune_gc()
    uvicorn.run(app, host=host, port=port, loop="uvloop", http="httptools", log_config=None, access_log=False)
