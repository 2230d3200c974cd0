"""A tiny HTTP/1.1 keep-alive client for load generation.

httpx spends about a millisecond of CPU per request; on a 2-core machine shared with the
services under test that would make the load generator the bottleneck. This client writes
the request bytes itself and reads ``Content-Length`` (or chunked) bodies: a few tens of
microseconds per request, so the numbers are the services', not the generator's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson


class HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


IDLE_LIMIT = 3.0
"""Seconds a pooled connection may idle before we drop it: uvicorn closes idle keep-alive
connections after 5 s, and a request written into a connection the server is closing
fails with an empty answer."""


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()
        self.reused = False

    def close(self) -> None:
        self.writer.close()


class HttpPool:
    """Up to ``size`` keep-alive connections to one ``http://host:port`` base URL."""

    def __init__(self, base_url: str, size: int = 64, timeout: float = 30.0, token: str | None = None) -> None:
        """``token``: the bearer token sent with every request (``as_token`` overrides it per call)."""
        parts = urlsplit(base_url)
        self._auth = b"" if token is None else b"Authorization: Bearer " + token.encode() + b"\r\n"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()
        self._size, self._timeout = size, timeout
        self._idle: list[_Conn] = []
        self._open = 0
        self._free = asyncio.Condition()

    async def _acquire(self) -> _Conn:
        async with self._free:
            while not self._idle and self._open >= self._size:
                await self._free.wait()
            now = time.monotonic()
            while self._idle:
                conn = self._idle.pop()
                if now - conn.used < IDLE_LIMIT:
                    conn.reused = True
                    return conn
                conn.close()
                self._open -= 1
            self._open += 1
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 22)
        except BaseException:
            async with self._free:
                self._open -= 1
                self._free.notify()
            raise
        return _Conn(reader, writer)

    async def _release(self, conn: _Conn, reusable: bool) -> None:
        async with self._free:
            if reusable:
                conn.used = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
                self._open -= 1
            self._free.notify()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        as_token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        if params:
            path = f"{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"
        body = b"" if json is None else orjson.dumps(json)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: ".encode()
            + self._host_header
            + b"\r\nUser-Agent: abonent-bench\r\n"
            + (self._auth if as_token is None else b"Authorization: Bearer " + as_token.encode() + b"\r\n")
        )
        if json is not None:
            head += b"Content-Type: application/json\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n".encode()
        head += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        for attempt in (1, 2):
            conn = await self._acquire()
            ok = False
            try:
                conn.writer.write(head + body)
                status, payload, keep = await asyncio.wait_for(self._read(conn.reader), self._timeout)
                ok = keep
                return status, payload
            except (asyncio.IncompleteReadError, ConnectionResetError):
                # the server closed a kept-alive connection as we reused it: nothing was
                # answered, so one retry on a fresh connection is what any client does
                if attempt == 2 or not conn.reused:
                    raise
            finally:
                await self._release(conn, ok)
        raise AssertionError("unreachable")

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, keep = None, False, True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            return status, b"".join(parts), keep
        if length is None:
            return status, await reader.read(), False
        return status, await reader.readexactly(length), keep

    async def json(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200, 201),
        json: Any = None,
        params: dict[str, Any] | None = None,
        as_token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        status, payload = await self.request(method, path, json=json, params=params, as_token=as_token, headers=headers)
        if status not in expect:
            raise HttpError(status, payload)
        return orjson.loads(payload)

    async def close(self) -> None:
        async with self._free:
            for conn in self._idle:
                conn.close()
            self._open -= len(self._idle)
            self._idle.clear()
