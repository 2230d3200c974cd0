"""The one pagination style of every list (docs/http.md "Pagination").

A list takes ``page`` (from 1) and ``page_size`` (1-500) and answers ``{items, ..., next_page}``
— ``next_page`` is the page to ask for next, null on the last one. Bounded so that
``(page - 1) * page_size`` always fits PostgreSQL's bigint OFFSET: a page number past the data
answers an empty page, never an overflow.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query

MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000
MAX_POSITION = 2**63 - 1
"""The largest event-store position (a bigint): a ``min_position`` beyond it cannot exist."""

T = TypeVar("T")


PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"the page to answer, from 1 (at most {MAX_PAGE})")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page (1-{MAX_PAGE_SIZE})")]


def offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def next_page(page: int, page_size: int, fetched: int) -> int | None:
    """``fetched``: how many rows the query returned when asked for ``page_size + 1``."""
    return page + 1 if fetched > page_size and page < MAX_PAGE else None


def slice_page(items: Sequence[T], page: int, page_size: int) -> tuple[list[T], int | None]:
    """One page of a list already in memory, and the next page's number (None on the last)."""
    start = offset(page, page_size)
    chunk = list(items[start : start + page_size + 1])
    return chunk[:page_size], next_page(page, page_size, len(chunk))


AfterCursor = Annotated[
    str | None,
    Query(
        max_length=1000,
        description=(
            "keyset paging: the next_after of the page before; the page starts after it and costs "
            "what the first page costs, however deep (page must then be 1)"
        ),
    ),
]


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque keyset cursor (``next_after``): the sort key of a page's last item."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(text: str) -> list[Any] | None:
    """The sort key in a cursor made by ``encode_cursor``; None if ``text`` is not one."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    return key if isinstance(key, list) else None
