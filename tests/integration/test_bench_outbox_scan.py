"""bench/outbox_scan.py measures what it says: after a drain, the relay's read from the scan
floor finds the live row and touches fewer pages than the read from the left. A functional
check on a small drain; the times are the bench's business."""

from __future__ import annotations

from bench.outbox_scan import measure, render


async def test_the_read_from_the_floor_finds_the_live_row_in_fewer_pages(stack) -> None:
    scan = await measure(stack.database_urls["contracts"], dead=20_000, reads=3)
    assert scan.floor == 20_001  # the live row's id: nothing is left below it
    assert scan.floor_pages < 10 < scan.left_pages, (scan.floor_pages, scan.left_pages)
    assert len(render(scan)) == 7
