"""Wire type for text: what a person types, refused when it carries control characters.

U+0000 cannot be stored in PostgreSQL's jsonb (the event store's ``data``) nor in ``text``,
and the other C0/C1 controls (and the bidi overrides) hide what a name says in every list and
e-mail. One-line text refuses all of them; multi-line text keeps tab and line breaks.

Surrounding whitespace is stripped; the length bound applies to what was sent (so a schema's
``maxLength`` and the answer agree), "empty" to what is left after stripping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
_CONTROLS_MULTILINE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
_ONE_LINE = re.compile(f"[{_CONTROLS}]")
_MULTI_LINE = re.compile(f"[{_CONTROLS_MULTILINE}]")


@dataclass(frozen=True)
class TextRules:
    max_length: int
    min_length: int = 1
    multiline: bool = False

    def check(self, value: str) -> str:
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long", "at most {max_length} characters", {"max_length": self.max_length}
            )
        found = (_MULTI_LINE if self.multiline else _ONE_LINE).search(value)
        if found is not None:
            raise PydanticCustomError(
                "control_character",
                "control character U+{code} at position {at} is not allowed in text",
                {"code": f"{ord(found.group()):04X}", "at": found.start()},
            )
        value = value.strip()
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "string_too_short",
                "at least {min_length} characters besides surrounding whitespace",
                {"min_length": self.min_length},
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, core_schema.str_schema())

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        controls = _CONTROLS_MULTILINE if self.multiline else _CONTROLS
        return {
            "type": "string",
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "pattern": f"^[^{controls}]*$",
        }


def text(max_length: int, *, min_length: int = 1, multiline: bool = False) -> TextRules:
    """``Annotated[str, text(300)]``: a stripped string of 1-300 characters without control characters."""
    return TextRules(max_length, min_length, multiline)
