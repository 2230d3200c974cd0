"""A query waiting for one client's ``min_position`` looks at the read model again only when a
batch of that client's bucket may have answered it (issue 20: under load, waiters woken by
every batch with a higher position spent more than the query itself, on both the service and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from services.projections.adapters.notifications import Generations
from services.projections.application.ports import ClientMark
from services.projections.application.queries import Queries
from services.projections.application.reached import BUCKETS, bucket_of


class ReadModel:
    """Only what a client's wait reads: the client's mark."""

    def __init__(self) -> None:
        self.positions: dict[UUID, int] = {}
        self.looks = 0

    async def client_mark(self, client_id: UUID, up_to: int) -> ClientMark:
        self.looks += 1
        position = self.positions.get(client_id)
        return ClientMark(position, position, position, False)


class HeardBatches:
    """The wake-ups as the LISTEN connection delivers them, minus PostgreSQL."""

    def __init__(self) -> None:
        self.batches = Generations()

    @property
    def seen(self) -> int:
        return self.batches.current

    async def wait(self, timeout: float, since: int, reaching: tuple[int, int] | None = None) -> None:
        await self.batches.wait_past(since, timeout, reaching)


async def test_a_waiting_client_query_sleeps_through_other_clients_batches() -> None:
    model, heard = ReadModel(), HeardBatches()
    looks: list[int] = []
    queries = Queries(model, heard, end_offsets=None, max_wait=5.0, on_looks=looks.append)  # type: ignore[arg-type]  # fakes of the ports a client wait uses
    client = uuid4()
    mine = bucket_of(client)
    waiting = asyncio.create_task(queries.wait_for(client, 100))
    await asyncio.sleep(0.01)
    for n in range(200):  # other clients' events, far past position 100
        heard.batches.advance({(mine + 1 + n % (BUCKETS - 1)) % BUCKETS: 1_000 + n})
        await asyncio.sleep(0)
    assert model.looks == 1 and not waiting.done()

    model.positions[client] = 100
    heard.batches.advance({mine: 100})
    assert await asyncio.wait_for(waiting, 1.0) is True
    assert model.looks == 2 and looks == [2]


async def test_a_waiting_client_query_gives_up_stale_after_its_wait() -> None:
    model, heard = ReadModel(), HeardBatches()
    looks: list[int] = []
    queries = Queries(model, heard, end_offsets=None, max_wait=0.05, on_looks=looks.append)  # type: ignore[arg-type]  # fakes of the ports a client wait uses
    assert await queries.wait_for(uuid4(), 100) is False
    assert looks == [2]  # the first look, and the last one when the wait ran out
