"""Checks for views that build response bodies as dicts (``shared.http.json_body.JsonBody``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.http.json_body import JsonBody


def same_as_model(model: type[BaseModel], body: dict[str, Any]) -> None:
    """``body`` on the wire is byte for byte what the documented response ``model`` would have
    answered: the same fields in the same order at every depth, the same JSON for UUIDs, dates,
    date-times and money."""
    wire = JsonBody(body).body
    assert wire == model.model_validate(body).model_dump_json().encode()
