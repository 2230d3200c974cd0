"""Issue 20: a projections service started on a read model that consumed nothing, while the
topics hold a backlog, fills it by the rebuild's bulk replay (in worker processes) and then
consumes live from the offsets the fill stored.

The service here is the real one (``create_app``: HTTP, fill, consumer) on a database of its
own, with the threshold lowered to 1 record and the replay split over 2 workers so that this
small backlog takes the path a large one takes. What it must show: the fill ran and was
swapped in; a poison record on the topics went to the dead-letter topic once more (the fill
does what the live consumer would have done); events published after the fill are applied
live; and ``cli check`` finds the filled read model equal to a fresh replay."""

from __future__ import annotations

import asyncio

from services.projections.application.first_fill import FillStatus, FirstFill
from services.projections.bootstrap import create_app
from shared.topics import CONTRACTS_EVENTS, PROJECTIONS_GROUP
from tests.integration.projections.conftest import projections_settings
from tests.integration.projections.helpers import ClientFeed, fresh, scratch_database, wait_consumed
from tests.integration.projections.test_catch_up import backlog, publish_all
from tests.integration.projections.test_rebuild import a_client, run_cli
from tests.support.kafka import dead_letters
from tests.support.servers import serving


async def filled(first_fill: FirstFill, timeout: float) -> FillStatus:
    """The fill's status once it ended (or ``timeout`` passed): the offsets are in the filled
    schema a moment before ``run()`` returns, so the read model's offsets do not tell."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not first_fill.status.ended:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    return first_fill.status


async def test_a_fresh_read_model_is_filled_by_the_bulk_replay_then_consumed_live(
    projections_api, producer, stack, projections_dsn
) -> None:
    feed = ClientFeed("Fill Poison Ltd")
    key = str(feed.client_id).encode()
    garbage = await producer.send_and_wait(CONTRACTS_EVENTS, value=b"{not an envelope", key=key)
    source = (PROJECTIONS_GROUP, CONTRACTS_EVENTS, garbage.partition, garbage.offset)
    events = backlog()
    await publish_all(producer, events)
    await wait_consumed(projections_dsn, stack.kafka_bootstrap, timeout=120)  # the session's read model
    assert len(await dead_letters(stack.kafka_bootstrap, *source, sent_by=PROJECTIONS_GROUP)) == 1

    fill_group = f"{PROJECTIONS_GROUP}.firstfill-test"  # not the session's read model's
    async with scratch_database(stack.database_urls["projections"], "firstfill") as dsn:
        settings = projections_settings(
            stack,
            database_url=dsn,
            consumer_group=fill_group,
            first_fill_from=1,
            rebuild_workers=2,
            rebuild_parallel_from=0,
        )
        app = create_app(settings)
        async with serving(app) as client:
            status = await filled(app.state.first_fill, timeout=180)
            assert status.state == "done", status
            assert status.done >= len(events), status  # every record of the backlog, by the fill
            assert status.workers == 2 and status.peak_worker_rss_mb > 0, status  # the pod's memory, shown
            ready = (await client.get("/health/ready")).json()
            shown = ready["consumer"]["first_fill"]
            assert shown["state"] == "done" and shown["workers"] == 2 and shown["peak_worker_rss_mb"] > 0, ready

            last = await a_client(producer)  # after the fill: the live consumer applies it
            body = await fresh(
                client, f"/clients/{last.client_id}/coverage", {"on": "2026-06-01", "min_position": last.last_position}
            )
            assert body["status"] == "covered"
            await wait_consumed(dsn, stack.kafka_bootstrap, timeout=60)

        # the fill dead-letters it too, to the service's topic, naming its own group (the topic
        # is at-least-once: a retried batch may add a copy, so "at least one", but the fill's)
        by_fill = await dead_letters(stack.kafka_bootstrap, *source, sent_by=fill_group)
        assert len(by_fill) >= 1
        assert all(dict(r.headers)["dlq_group"] == PROJECTIONS_GROUP.encode() for r in by_fill)
        checked = await asyncio.to_thread(run_cli, stack, "check", dsn)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "no differences" in checked.stderr
