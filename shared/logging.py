"""structlog set-up: readable console lines in development, one JSON object per line in production.

Context (correlation id, causation id, event id, stream) is bound with contextvars so every
line logged while a request or a Kafka message is handled carries it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
import structlog

_SECRET_KEYS = ("password", "secret", "token", "dsn", "database_url", "authorization")


def _redact_secrets(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event_dict[key] = "***"
    return event_dict


_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@]*@")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;\s]password=)[^&\s]*", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``scheme://user:PASSWORD@host`` and ``?password=...`` with the password as ``***``."""
    if "://" in text:
        text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    if "password=" in text.lower():
        text = _QUERY_PASSWORD.sub(r"\g<head>***", text)
    return text


def _mask_url_passwords(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Whatever the key: a DSN in a message, a value or a formatted traceback is masked."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = mask_secrets(value)
    return event_dict


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def configure_logging(fmt: str = "console", level: str = "INFO") -> None:
    """Configure structlog and route stdlib logging (uvicorn, aiokafka) through it."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    shared.append(_mask_url_passwords)  # last: after the traceback became text
    structlog.configure(
        # Drop a line below the level first: otherwise every processor (the timestamp too) runs
        # for it, e.g. on each request's info line while the service logs warnings only.
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


@contextmanager
def bound_context(values: Mapping[str, Any]) -> Iterator[None]:
    """Bind ``values`` to every log line inside the block, then restore what was there."""
    clean = {k: str(v) for k, v in values.items() if v is not None}
    with structlog.contextvars.bound_contextvars(**clean):
        yield


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
