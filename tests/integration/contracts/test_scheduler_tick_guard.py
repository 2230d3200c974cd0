"""``POST /scheduler/tick`` is the admin's, and refuses a day that has not come yet unless the
installation allows future ticks (the local stack, the demo and the tests do)."""

from __future__ import annotations

from datetime import timedelta

from services.contracts.bootstrap import create_app
from shared.calendar import CalendarSettings
from tests.integration.contracts.conftest import contracts_settings
from tests.support.auth import bearer
from tests.support.servers import serving


async def test_a_future_as_of_is_refused_unless_allowed(stack, contracts_api):
    today = CalendarSettings().calendar().today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    async with serving(create_app(contracts_settings(stack, run_relay=False, allow_future_ticks=False))) as api:
        r = await api.post("/scheduler/tick", json={"as_of": tomorrow})
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {"field": "as_of", "rule": "as_of_in_future", "message": r.json()["errors"][0]["message"]}
        ]
        assert tomorrow in r.json()["errors"][0]["message"]
        assert (await api.post("/scheduler/tick", json={"as_of": today.isoformat()})).status_code == 200
        r = await api.post("/scheduler/tick", json={"as_of": today.isoformat()}, headers=bearer("manager"))
        assert r.status_code == 403
    r = await contracts_api.post("/scheduler/tick", json={"as_of": tomorrow})
    assert r.status_code == 200  # CONTRACTS_ALLOW_FUTURE_TICKS=true, as on the local stack
