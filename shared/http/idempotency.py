"""``Idempotency-Key`` on the POSTs that create something (docs/http.md "Idempotent creates").

A route opts in with ``dependencies=[..., IDEMPOTENT]`` (which also documents the header).
For such a route, a request carrying the header is handled like this, per caller (the
verified token's subject) and key:

* first time: the request runs; a 2xx answer (status, headers, body — ids and position
  included) is kept, and anything else is forgotten, so a retry runs again (a refused command
  wrote nothing);
* the same key with the same request (method, path, query, JSON body) again: the kept answer,
  byte for byte, with ``Idempotent-Replayed: true``;
* the same key with another request: ``422 idempotency_key_reused``;
* while the first is still running: ``409 idempotency_key_in_use`` with ``Retry-After``.

Keys are kept ``RETENTION`` (24 h) at least; older rows are purged now and then. A claim whose
request never finished (the process died) is taken over after ``ABANDONED_AFTER``.

Plain ASGI inside the catch-all (``shared.http.faults``): a store that is down answers 503.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Protocol

import asyncpg
import orjson
from fastapi import Depends, Header
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth.keys import AuthFailure
from shared.http.errors import send_problem
from shared.http.routes import matching

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[!-~]{1,255}$"
"""1-255 visible ASCII characters (a UUID is the usual choice)."""
RETENTION = timedelta(hours=24)
ABANDONED_AFTER = timedelta(seconds=60)
PURGE_EVERY_SECONDS = 300.0
REPLAYED = (b"idempotent-replayed", b"true")
_KEPT_HEADERS = frozenset({b"content-type", b"location"})


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN,
            description="retry safely: the same key and request again answers what the first answered "
            "(kept 24 h; another request under the key is 422 idempotency_key_reused)",
        ),
    ] = None,
) -> str | None:
    return key


IDEMPOTENT: Any = Depends(idempotency_key)
"""A route's dependency: it creates something, and a retry with the same key is answered once."""


@dataclass(frozen=True)
class Kept:
    fingerprint: bytes
    status: int | None  # None: the first request is still running
    headers: list[tuple[bytes, bytes]]
    body: bytes


class IdempotencyStore(Protocol):
    async def claim(self, actor: str, key: str, fingerprint: bytes) -> Kept | None:
        """None when this request now owns the key; else what the key holds."""

    async def complete(
        self, actor: str, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        """Keep the answer of the request that owns the key."""

    async def release(self, actor: str, key: str) -> None:
        """Forget the key (its request did not succeed: a retry runs again)."""


class PostgresIdempotencyStore:
    """The ``idempotency_keys`` table of the service's own database."""

    def __init__(
        self, pool: asyncpg.Pool, retention: timedelta = RETENTION, abandoned_after: timedelta = ABANDONED_AFTER
    ) -> None:
        self._pool, self._retention, self._abandoned = pool, retention, abandoned_after
        self._purged_at = 0.0

    async def claim(self, actor: str, key: str, fingerprint: bytes) -> Kept | None:
        async with self._pool.acquire() as conn:
            if time.monotonic() - self._purged_at > PURGE_EVERY_SECONDS:
                self._purged_at = time.monotonic()
                await conn.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - $1::interval", self._retention
                )
            for _ in range(3):  # a row deleted between the insert and the read: insert again
                claimed = await conn.fetchval(
                    """
                    INSERT INTO idempotency_keys AS k (actor, key, fingerprint) VALUES ($1, $2, $3)
                    ON CONFLICT (actor, key) DO UPDATE
                       SET fingerprint = EXCLUDED.fingerprint, status = NULL, headers = NULL, body = NULL,
                           created_at = clock_timestamp()
                     WHERE k.created_at < clock_timestamp() - $4::interval
                        OR (k.status IS NULL AND k.created_at < clock_timestamp() - $5::interval)
                    RETURNING true
                    """,
                    actor,
                    key,
                    fingerprint,
                    self._retention,
                    self._abandoned,
                )
                if claimed:
                    return None
                row = await conn.fetchrow(
                    "SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE actor = $1 AND key = $2",
                    actor,
                    key,
                )
                if row is not None:
                    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in row["headers"] or []]
                    return Kept(bytes(row["fingerprint"]), row["status"], headers, bytes(row["body"] or b""))
        raise RuntimeError(f"idempotency key {key!r} could be neither claimed nor read")

    async def complete(
        self, actor: str, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        kept = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]
        await self._pool.execute(
            "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE actor = $1 AND key = $2",
            actor,
            key,
            status,
            kept,
            body,
        )

    async def release(self, actor: str, key: str) -> None:
        await self._pool.execute(
            "DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2 AND status IS NULL", actor, key
        )


def fingerprint(scope: Scope, body: bytes) -> bytes:
    """What makes two requests "the same": method, path, query and the body (JSON compared as
    data: key order and spacing do not matter)."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def _declares_key(route: Any) -> bool:
    if not isinstance(route, APIRoute):
        return False
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if dependency.call is idempotency_key:
            return True
        stack.extend(dependency.dependencies)
    return False


class IdempotentRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._opted_in: dict[int, bool] = {}

    def _applies(self, scope: Scope) -> bool:
        for entry in matching(getattr(scope["app"].state, "route_table", ()), scope["path"]):
            if scope["method"] in entry.methods:
                if id(entry.route) not in self._opted_in:
                    self._opted_in[id(entry.route)] = _declares_key(entry.route)
                return self._opted_in[id(entry.route)]
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = dict(scope["headers"]).get(HEADER.lower().encode())
        state = scope["app"].state
        store: IdempotencyStore | None = getattr(state, "idempotency", None)
        key = raw_key.decode("latin-1") if raw_key is not None else None
        if key is None or store is None or not (1 <= len(key) <= 255 and key.isascii() and key.isprintable()):
            await self.app(scope, receive, send)  # no key, or a bad one the route's validation refuses
            return
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        try:
            principal = await state.auth.verify(dict(scope["headers"]).get(b"authorization", b"").decode("latin-1"))
        except AuthFailure:
            await self.app(scope, receive, send)  # the route answers 401
            return
        await self._once(scope, receive, send, store, principal.sub, key)

    async def _once(
        self, scope: Scope, receive: Receive, send: Send, store: IdempotencyStore, actor: str, key: str
    ) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        correlation_id = scope.get("state", {}).get("correlation_id")
        request = fingerprint(scope, body)
        kept = await store.claim(actor, key, request)
        if kept is not None:
            if kept.fingerprint != request:
                message_text = f"{HEADER} {key[:60]!r} was used for another request; use a new key for a new request"
                errors = [{"field": HEADER, "rule": "idempotency_key_reused", "message": message_text}]
                await send_problem(send, 422, errors, scope["path"], correlation_id)
            elif kept.status is None:
                message_text = "the first request with this key is still running"
                errors = [{"field": HEADER, "rule": "idempotency_key_in_use", "message": message_text}]
                await send_problem(send, 409, errors, scope["path"], correlation_id, [(b"retry-after", b"1")])
            else:
                headers = [*kept.headers, (b"content-length", str(len(kept.body)).encode()), REPLAYED]
                await send({"type": "http.response.start", "status": kept.status, "headers": headers})
                await send({"type": "http.response.body", "body": kept.body})
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: Message | None = None
        parts: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        try:
            await self.app(scope, replay, keep)
        except BaseException:
            await store.release(actor, key)
            raise
        assert start is not None, "the app answered nothing"
        answer = b"".join(parts)
        if 200 <= start["status"] < 300:
            kept_headers = [(k.lower(), v) for k, v in start.get("headers", []) if k.lower() in _KEPT_HEADERS]
            await store.complete(actor, key, start["status"], kept_headers, answer)
        else:
            await store.release(actor, key)
        await send(start)
        await send({"type": "http.response.body", "body": answer})
