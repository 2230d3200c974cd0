"""The composition root of the console: settings -> the four services' clients -> the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import SecretStr
from starlette.middleware import Middleware

from services.console.adapters.http_apis import Service, http_apis
from services.console.application.ports import Apis
from services.console.entrypoints.http import clients, lists, signin, tickets, timing
from services.console.entrypoints.http.csrf import CsrfCheck, derive_key
from services.console.entrypoints.http.web import SESSION, forged, install_page_errors
from services.console.settings import ConsoleSettings
from shared.http.app import create_service_app
from shared.logging import configure_logging, get_logger

log = get_logger("console")
STATIC = Path(__file__).resolve().parent / "static"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def create_app(settings: ConsoleSettings | None = None, apis: Apis | None = None) -> FastAPI:
    """``apis``: the services to call (default: over HTTP at the settings' URLs; tests pass fakes)."""
    settings = settings or ConsoleSettings()
    configure_logging(settings.log.format, settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools: list[Service] = []
        if apis is None:
            urls = {
                "contracts": settings.contracts_url,
                "projections": settings.projections_url,
                "tickets": settings.tickets_url,
                "notifier": settings.notifier_url,
            }
            app.state.apis, pools = http_apis(urls, settings.api_timeout_seconds, observe=timing.observe)
        else:
            app.state.apis = apis
        log.info("console started", port=settings.http_port, sso=settings.sso)
        try:
            yield
        finally:
            for pool in pools:
                await pool.close()

    app = create_service_app(
        title="Abonent console",
        description="The people's console: server-rendered pages over the services' APIs (no data of its own).",
        routers=[signin.router, clients.router, lists.router, tickets.router],
        service="console",
        checks={},
        lifespan=lifespan,
        auth=settings.auth,
    )
    app.state.settings = settings
    if apis is not None:
        app.state.apis = apis
    app.state.calendar = settings.calendar.calendar()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_page_errors(app)
    # innermost (appended, not added): after the request limits, so the body it reads is capped
    app.user_middleware.append(
        Middleware(
            CsrfCheck,
            key=derive_key(
                *(_secret(s) for s in (settings.csrf_secret, settings.session_secret, settings.auth.hs256_secret))
            ),
            session=SESSION,
            refuse=forged,
            secure=settings.cookie_secure,
        )
    )
    app.add_middleware(timing.ServerTiming)  # outermost of the console's own: the whole answer
    if settings.sso:
        from authlib.integrations.starlette_client import OAuth
        from starlette.middleware.sessions import SessionMiddleware

        assert settings.session_secret is not None and settings.oidc_issuer is not None
        oauth = OAuth()
        oauth.register(
            "sso",
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
            client_kwargs={"scope": settings.oidc_scope},
        )
        app.state.oidc = oauth.create_client("sso")
        app.add_middleware(
            SessionMiddleware,
            secret_key=settings.session_secret.get_secret_value(),
            session_cookie="abonent_login",
            max_age=600,
            same_site="lax",
            https_only=settings.cookie_secure,
        )
    return app
