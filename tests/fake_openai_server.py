"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks: real HTTP, no model.

It logs every request, streams SSE like the real API, and can be told to fail: a 429 with Retry-After,
a 5xx, a reply slower than the client's timeout, no answer at all, a 200 whose body is not a reply (an
HTML page, broken JSON), or a fixed delay on every reply (for benchmarks).
Persona requests are answered with the authored example line from the direction message, so a session
through it reads sensibly; JSON-schema requests get a judge verdict.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int | None = None  # answer with this HTTP status
    retry_after: str | None = None  # Retry-After header value
    delay: float = 0.0  # seconds to wait before answering (longer than the client timeout = a timeout)
    cut_after: int | None = None  # stream this many words, then drop the connection mid-reply
    hang: bool = False  # read the request, then never answer (until the server is closed)
    body: str | None = None  # answer 200 with this body as it is (an HTML page, broken JSON)
    content_type: str = "application/json"  # the content-type sent with `body`


def default_reply(body: dict[str, Any]) -> str:
    """The example line from the direction (a well-behaved persona), or a judge verdict for JSON requests."""
    if body.get("response_format"):
        rep = body["messages"][-1]["content"].split("The rep's turn to label:")[-1].lower()
        pitch = any(w in rep for w in ("our ", "we ", "discount", "contract", "demo"))
        question = "?" in rep
        return json.dumps(
            {
                "focus": "pitch" if pitch else "customer",
                "question": ("open" if re.search(r"\b(what|how|why)\b", rep) else "closed")
                if question
                else "none",
                "spin": "none" if pitch or not question else "situation",
                "depth": "none" if pitch else "situation",
                "follow_up": False,
                "evidence": rep.strip()[:40],
            }
        )
    direction = body["messages"][-1]["content"]
    lines = re.findall(
        r'Something like: "([^"]+)"|say no more about it: "([^"]+)"|bluntly: "([^"]+)"', direction
    )
    said = [next(part for part in match if part) for match in lines]
    return " ".join(said) or "Go on."


@dataclass
class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.base_url` goes to OPENAI_BASE_URL."""

    delay: float = 0.0
    reply: Any = default_reply
    faults: deque[Fault] = field(default_factory=deque)
    log: list[dict[str, Any]] = field(default_factory=list)
    usage_in_stream: bool = True

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._closing = threading.Event()  # set on exit: releases requests told to hang
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # no Nagle: headers and body go out at once, as a real server's do
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    fault = server.faults.popleft() if server.faults else Fault()
                    server.log.append(
                        {
                            "path": self.path,
                            "body": body,
                            "headers": dict(self.headers.items()),
                            "fault": fault.status
                            or ("hang" if fault.hang else None)
                            or ("raw body" if fault.body is not None else None)
                            or (f"delay {fault.delay}" if fault.delay else None)
                            or (f"cut after {fault.cut_after}" if fault.cut_after is not None else None),
                            "at": time.monotonic(),
                        }
                    )
                if fault.hang:
                    server._closing.wait()
                    return
                time.sleep(server.delay + fault.delay)
                if fault.body is not None:
                    self._raw(fault.body.encode(), fault.content_type)
                    return
                if fault.status:
                    headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
                    error = {"error": {"message": f"injected {fault.status}", "type": "test", "code": None}}
                    self._json(fault.status, error, headers)
                    return
                text = server.reply(body)
                if body.get("stream"):
                    self._stream(body, text, fault.cut_after)
                else:
                    self._json(200, _completion(body, text))

            def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(json.dumps(payload).encode(), "application/json", status, headers)

            def _raw(
                self, data: bytes, content_type: str, status: int = 200, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def _stream(self, body: dict[str, Any], text: str, cut_after: int | None = None) -> None:
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("cache-control", "no-cache")
                    self.send_header("connection", "close")
                    self.end_headers()
                    for i, piece in enumerate(re.findall(r"\S+\s*|\s+", text)):
                        if i == cut_after:  # the connection drops mid-reply: no finish, no [DONE]
                            self.close_connection = True
                            return
                        self._event(_chunk(body, {"content": piece}))
                    self._event(_chunk(body, {}, finish="stop"))
                    if server.usage_in_stream and (body.get("stream_options") or {}).get("include_usage"):
                        self._event({**_chunk(body, {}), "choices": [], "usage": _usage(body, text)})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail(self, *faults: Fault) -> None:
        """Queue faults: each one applies to the next request, in order."""
        with self._lock:
            self.faults.extend(faults)

    def requests(self) -> list[dict[str, Any]]:
        return [entry["body"] for entry in self.log]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(m.get("content") or "") for m in body.get("messages", [])) // 4
    completion = max(1, len(text) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": _usage(body, text),
    }


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
