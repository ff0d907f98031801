"""What the load benchmarks share: a fake OpenAI-compatible model server with a fixed delay, Gradio's queue
protocol as a browser speaks it (async, over asynchttp: every rep in one event loop), the reps' starting
gate, and the CPU and percentile helpers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asynchttp import Client

REPLY = "That's a fair question. Honestly, the budget is what keeps me up at night right now."
LINES = [
    "Thanks for making time. What's taking most of your attention this quarter?",
    "You mentioned the budget. What's driving that pressure?",
    "What would a good outcome look like for you personally?",
    "How would you know this quarter went well?",
    "What happens if nothing changes?",
    "Who else feels that pressure on your team?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_model_server(delay: float) -> tuple[ThreadingHTTPServer, str]:
    """An OpenAI-compatible /v1/chat/completions that waits `delay` seconds, then answers (or streams)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            time.sleep(delay)
            usage = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                words = REPLY.split(" ")
                for n, word in enumerate(words):
                    piece = word if n == 0 else " " + word
                    chunk = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                # The reply is finished (a stream without a finish_reason is a cut one), then the usage.
                done = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                final = {**chunk, "choices": [], "usage": usage}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: {json.dumps(final)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True
                return
            data = json.dumps(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": REPLY},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:  # a caller that hung up (killed): fine
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


EVENT_DEADLINE = 180.0  # seconds a rep waits for one event's result, heartbeats or not
RESULT = b'"process_completed"'  # the one kind of stream line a rep reads


class Page:
    """Gradio's queue protocol as the browser speaks it: join an event, read its result from the stream."""

    def __init__(self, http: Client, fns: dict[str, int], session_hash: str) -> None:
        self.http, self.fns, self.session_hash = http, fns, session_hash

    async def call(self, api_name: str, data: list) -> list:
        body = {"data": data, "fn_index": self.fns[api_name], "session_hash": self.session_hash}
        joined = await self.http.post(
            "gradio_api/queue/join", json={**body, "event_data": None, "trigger_id": None}
        )
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        # The stream's heartbeats keep it open, so a result that never comes would hold this rep (and
        # the run) forever: give up at a deadline instead.
        window = asyncio.timeout(EVENT_DEADLINE)
        try:
            async with window:
                return await self._result(event_id)
        except TimeoutError:
            if window.expired():
                raise RuntimeError(f"no result for {api_name} within {EVENT_DEADLINE:g} s") from None
            raise

    async def _result(self, event_id: str) -> list:
        """The event's output, from the session's stream. Only the result matters here: the streamed
        words before it are not parsed (a browser would render them, but this generator's CPU shares the
        machine with what it measures)."""
        async with self.http.stream(f"gradio_api/queue/data?session_hash={self.session_hash}") as stream:
            while (line := await stream.find(RESULT)) is not None:
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise RuntimeError(output.get("error") or "event failed")
                    return output["data"]
        raise RuntimeError("stream ended before the event completed")


class Gate:
    """Where every rep waits until all are in a session: asyncio.Barrier with threading.Barrier's
    `action`, run by the last rep to arrive before any goes on (one event loop: nothing runs between)."""

    def __init__(self, parties: int, action: Callable[[], None] | None = None) -> None:
        self.barrier, self.action = asyncio.Barrier(parties), action

    async def wait(self) -> None:
        """Raises asyncio.BrokenBarrierError when a rep could not start (see `abort`)."""
        if self.action is not None and self.barrier.n_waiting == self.barrier.parties - 1:
            self.action()
        await self.barrier.wait()

    async def abort(self) -> None:
        await self.barrier.abort()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to report the app's cost per turn."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time so far of these processes and all their descendants (nginx's workers, PostgreSQL's
    backends): the parts of the stack besides the app, whose cost per turn the report shows too."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(
                    Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    wanted, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in wanted]
        wanted.update(children)
        frontier.extend(children)
    total = 0.0
    for pid in wanted:
        try:
            total += cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def exit_with_parent() -> None:
    """End this child process when the benchmark does, even if it was killed: its end closes our stdin."""

    def watch() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def serve_model(delay: float) -> None:
    """The model server, in its own process as a real one would be; prints its URL, then waits."""
    exit_with_parent()
    _, base_url = fake_model_server(delay)
    print(base_url, flush=True)
    threading.Event().wait()
