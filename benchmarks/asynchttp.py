"""A minimal HTTP/1.1 client over asyncio streams, for the load generator's simulated reps.

The reps run on the same cores as the app they measure, so every millisecond they spend is taken from
it. A general client (httpx, one thread per rep) costs a few ms of CPU per turn; this one writes its
requests by hand, reads only what the benchmark needs, and keeps each rep's connection alive between
requests, so all reps share one event loop in one thread. It speaks just enough HTTP for Gradio,
uvicorn and nginx: Content-Length or chunked bodies, keep-alive, and a tiny cookie jar (no HEAD,
no 1xx/204/304 answers, no redirects: nothing here asks for them).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

KEEP_IDLE = 4.0  # s an idle connection is kept: uvicorn closes its own after 5 s
DRAIN_WITHIN = 1.0  # s to read a stream's end after its result (Gradio ends it right after)


class HTTPError(RuntimeError):
    """The server answered with an error status."""


@dataclass
class Response:
    request: str  # "POST /login": for error messages
    status: int
    headers: dict[str, str]  # lower-case names; Set-Cookie goes to the client's jar, not here
    body: bytes = b""

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise HTTPError(f"{self.status} for {self.request}: {self.body[:120].decode(errors='replace')}")


@dataclass
class Connection:
    """One keep-alive connection; it goes back to its client's pool only after a complete response."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: bool = False  # has answered a request: if it fails before answering, the server closed it idle
    idle_since: float = field(default_factory=time.monotonic)

    def stale(self) -> bool:
        """Closed by the server, or idle long enough that the server may be closing it right now."""
        return (
            self.reader.at_eof() or self.writer.is_closing() or time.monotonic() - self.idle_since > KEEP_IDLE
        )

    def close(self) -> None:
        self.writer.close()


class Body:
    """A response body being read from its connection: Content-Length, chunked, or up to the close."""

    def __init__(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> None:
        self.reader = reader
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self.left = int(length) if length is not None and not self.chunked else None
        self.done = False
        self._pending = b""  # the start of a line whose end has not arrived
        self._found: deque[bytes] = deque()

    async def next_chunk(self) -> bytes:
        """The next piece of the body as it arrives; b"" once it is complete."""
        try:
            return await self._next_chunk()
        except asyncio.IncompleteReadError:
            raise ConnectionError("the connection closed in the middle of a response") from None

    async def _next_chunk(self) -> bytes:
        if self.done:
            return b""
        if self.chunked:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                self.done = True
                return b""
            return (await self.reader.readexactly(size + 2))[:-2]
        if self.left is not None:
            if self.left == 0:
                self.done = True
                return b""
            data = await self.reader.read(min(self.left, 1 << 16))
            if not data:
                raise asyncio.IncompleteReadError(b"", self.left)
            self.left -= len(data)
            return data
        data = await self.reader.read(1 << 16)  # no length given: the body ends with the connection
        self.done = not data
        return data

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.next_chunk():
            parts.append(chunk)
        return b"".join(parts)

    async def find(self, needle: bytes) -> bytes | None:
        """The next complete line holding `needle`, or None at the body's end. Chunks without the needle
        are not split into lines at all: the streamed words before a result cost next to nothing."""
        while not self._found:
            chunk = await self.next_chunk()
            if not chunk:
                return None
            data = self._pending + chunk
            cut = data.rfind(b"\n") + 1
            self._pending = data[cut:]
            if data.find(needle, 0, cut) >= 0:
                self._found.extend(line for line in data[:cut].split(b"\n") if needle in line)
        return self._found.popleft()


class Client:
    """One rep's HTTP: keep-alive connections to one host, and (with `cookies`) the cookies it set."""

    def __init__(self, url: str, *, cookies: bool = False, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.root = parts.path.rstrip("/") + "/"  # request paths are relative to it
        self.jar: dict[str, str] | None = {} if cookies else None
        self.timeout = timeout
        self._idle: list[Connection] = []

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def get(self, path: str, params: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path + ("?" + urlencode(params) if params else ""))

    async def post(self, path: str, *, json: Any = None, form: dict[str, str] | None = None) -> Response:
        if form is not None:
            body, kind = urlencode(form).encode(), "application/x-www-form-urlencoded"
        else:
            body, kind = jsonlib.dumps(json).encode(), "application/json"
        return await self.request("POST", path, body, kind)

    async def request(self, method: str, path: str, body: bytes = b"", kind: str = "") -> Response:
        """One whole request and response (the body read to its end, so the connection can be reused)."""
        async with asyncio.timeout(self.timeout):
            connection, status, headers = await self._send(method, path, body, kind)
            try:
                data = await Body(connection.reader, headers).read()
            except BaseException:
                connection.close()
                raise
            self._release(connection, headers)
        return Response(f"{method} {self.root}{path}", status, headers, data)

    @asynccontextmanager
    async def stream(self, path: str) -> AsyncIterator[Body]:
        """A GET whose body is read as it arrives (a server-sent-event stream). When the caller is done,
        what is left of it is read to its end, so the connection is reused; if it does not end within
        DRAIN_WITHIN (or anything failed), the connection is closed instead, never left half-read."""
        async with asyncio.timeout(self.timeout):
            connection, status, headers = await self._send("GET", path)
        if status >= 400:
            connection.close()
            raise HTTPError(f"{status} for GET {self.root}{path}")
        body = Body(connection.reader, headers)
        try:
            yield body
        except BaseException:
            connection.close()
            raise
        try:
            async with asyncio.timeout(DRAIN_WITHIN):
                await body.read()
        except Exception:  # slow to end, or cut: the result is in, only this connection is lost
            connection.close()
            return
        self._release(connection, headers)

    async def _send(
        self, method: str, path: str, body: bytes = b"", kind: str = ""
    ) -> tuple[Connection, int, dict[str, str]]:
        """Send the request and read the response's head. A kept-alive connection the server closed
        while it was idle fails before any answer: then the request goes once more on a new one."""
        head = self._head(method, path, body, kind)
        while True:
            connection = await self._connection()
            try:
                connection.writer.write(head + body)
                await connection.writer.drain()
                status, headers = await self._read_head(connection.reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                connection.close()
                if connection.used and not getattr(exc, "partial", b""):
                    continue  # closed while idle: nothing was answered, so nothing was done
                raise ConnectionError(f"{method} {self.root}{path}: connection lost ({exc!r})") from exc
            except BaseException:
                connection.close()
                raise
            connection.used = True
            return connection, status, headers

    def _head(self, method: str, path: str, body: bytes, kind: str) -> bytes:
        lines = [f"{method} {self.root}{path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.jar.items()))
        if method != "GET":
            lines.append(f"Content-Length: {len(body)}")
        if kind:
            lines.append(f"Content-Type: {kind}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        """The status and the headers; cookies the server sets go into the jar."""
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                self._keep_cookie(value)
            elif name:
                headers[name] = value
        return status, headers

    def _keep_cookie(self, header: str) -> None:
        """name=value, for every path of this one host; a Secure cookie is not sent over plain HTTP (as
        httpx did: the sign-in sets a Secure and a plain copy of the same token)."""
        if self.jar is None:
            return
        pair, *attributes = header.split(";")
        name, _, value = pair.partition("=")
        if not any(a.strip().lower() == "secure" for a in attributes):
            self.jar[name.strip()] = value.strip()

    async def _connection(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.stale():
                return connection
            connection.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return Connection(reader, writer)

    def _release(self, connection: Connection, headers: dict[str, str]) -> None:
        if "close" in headers.get("connection", "").lower() or connection.reader.at_eof():
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)
