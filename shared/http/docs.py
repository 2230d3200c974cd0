"""Swagger UI (``/docs``) and ReDoc (``/redoc``) served with their assets from the service itself.

FastAPI's own pages load their JavaScript and CSS from a CDN, so in a closed network (and on a
laptop without one) the page the README points to stays blank. ``fastapi-offline`` ships those
files in its wheel and serves them under ``ASSETS`` (its documented ``FastAPIOffline``); the
ReDoc page it writes asks for no web fonts. Every service's app is built here, so every service
gets the same pages (tests/e2e/test_console_browser.py opens them in Chromium with every request
that leaves 127.0.0.1 refused).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

ASSETS = "/docs-assets"


def offline_docs_app(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose ``/docs`` and ``/redoc`` need nothing from outside the service."""
    return FastAPIOffline(static_url=ASSETS, **kwargs)
