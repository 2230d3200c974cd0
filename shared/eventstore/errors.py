"""Errors the event store raises."""

from __future__ import annotations


class ConcurrencyError(Exception):
    """Another writer appended to the stream first (or the stream is not where expected)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        detail = f"expected version {expected}" + (f", found {actual}" if actual is not None else "")
        super().__init__(f"stream {stream_id}: {detail}")
