"""The notifications page: what was sent to whom and the failures; retry offered to admin only."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.console.application.ports import Apis, Json, Params, User
from services.console.bootstrap import create_app
from services.console.entrypoints.http.web import SESSION
from services.console.settings import ConsoleSettings
from shared.auth import AuthSettings, mint
from tests.unit.console.fakes import Calls, fake_apis, post_form

SECRET = "a-console-test-secret-of-at-least-32-bytes"
EVENT = "66666666-6666-6666-6666-666666666666"


class Notifier:
    def __init__(self) -> None:
        self.retried: list[str] = []

    async def notifications(self, user: User, params: Params) -> Json:
        return {
            "items": [
                {
                    "event_id": EVENT,
                    "kind": "reminder",
                    "contract_number": "A-17",
                    "recipients": ["maria@example.com", "desk@example.com"],
                    "subject": "Period ends on 31 March",
                    "sent_at": None,
                    "received_at": "2026-03-24T09:00:00+00:00",
                    "status": "failed",
                    "deliveries": [{"recipient": "maria@example.com", "last_error": "550 mailbox unavailable"}],
                }
            ],
            "next_offset": None,
        }

    async def retry(self, user: User, event_id: str) -> Json:
        self.retried.append(event_id)
        return {"event_id": event_id, "reopened": 1}


def web(role: str, notifier: Notifier) -> httpx.AsyncClient:
    settings = ConsoleSettings(auth=AuthSettings(hs256_secret=SECRET))
    apis = fake_apis(Calls())
    app = create_app(settings, Apis(apis.contracts, apis.projections, apis.tickets, notifier))
    token = mint(AuthSettings(hs256_secret=SECRET), [role], f"t-{role}", ttl=timedelta(hours=1))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c", cookies={SESSION: token})


async def test_failures_are_shown_and_only_admin_may_retry():
    notifier = Notifier()
    async with web("manager", notifier) as manager:
        page = await manager.get("/notifications")
        assert page.status_code == 200 and "550 mailbox unavailable" in page.text and "maria@example.com" in page.text
        assert "Retry" not in page.text
        assert (await post_form(manager, f"/notifications/{EVENT}/retry", {})).status_code == 403
    async with web("admin", notifier) as admin:
        assert f'action="/notifications/{EVENT}/retry"' in (await admin.get("/notifications")).text
        retried = await post_form(admin, f"/notifications/{EVENT}/retry", {})
        assert retried.status_code == 303 and notifier.retried == [EVENT]
