"""An answer whose body a route built as a dict, serialised by orjson.

Building a pydantic model per nested item and letting FastAPI validate and dump it again costs
a fifth of a debtors page's CPU and a tenth of a ticket registration's (docs/decisions/
performance.md). A route that answers :class:`JsonBody` keeps its ``response_model`` for the
OpenAPI document, and a unit test per view validates the dicts against those models; FastAPI
neither validates nor re-serialises a ``Response``.

orjson writes UUIDs, dates and date-times in the form pydantic does (``OPT_UTC_Z``: a UTC
date-time ends in ``Z``, as pydantic writes it); money is formatted by the views.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from fastapi import Response

Body = dict[str, Any]


class JsonBody(Response):
    """A dict body serialised by orjson (FastAPI's own ORJSONResponse is deprecated)."""

    media_type = "application/json"

    def render(self, content: Body) -> bytes:
        return orjson.dumps(content, default=_uuid, option=orjson.OPT_UTC_Z)


def _uuid(value: object) -> str:
    """orjson writes ``uuid.UUID`` itself but not asyncpg's faster subclass of it."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
