"""Load test of the web app: N reps chatting at once against a model server that takes 1.0 s per reply.

Starts a local OpenAI-compatible fake (stdlib, streaming and not, fixed delay) and the app, each in its
own process, with the LLM voice pointed at the fake; then N simulated browser tabs (Gradio's queue
protocol over httpx) that each start a scenario and send turns.
Prints turn-latency percentiles, the app's CPU per turn and errors; the figures are for people, the exit
status only says whether every turn was answered (1 when any failed). Each rep pauses a few seconds before
every question, as people do while they read the reply and type; `--burst` drops the pauses and has all
reps press Enter in the same instant. Both child processes end with this one, however it ends.

    python benchmarks/load_app.py                 # 50 sessions x 4 turns, 1.0 s per reply, 3-8 s pauses
    python benchmarks/load_app.py --burst         # the worst case: every turn sent at once
    python benchmarks/load_app.py --sessions 10 --turns 2 --delay 0.5 --think 1:2
    python benchmarks/load_app.py --sessions 2 --turns 1 --delay 0.05 --think 0:0   # smoke test, ~15 s
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def model_voice(base_url: str):
    """The LLM backend's own voice (roleplay.llm_voice) over the OpenAI client, pointed at the fake."""
    from trainer.llm.openai_client import OpenAIChatModel
    from trainer.roleplay.llm_voice import LLMVoice

    return LLMVoice(OpenAIChatModel(base_url=base_url, api_key="not-needed", timeout=30), model="fake-1s")


class Page:
    """Gradio's queue protocol as the browser speaks it: join an event, read its result from the stream."""

    def __init__(self, http: httpx.Client, fns: dict[str, int], session_hash: str) -> None:
        self.http, self.fns, self.session_hash = http, fns, session_hash

    def call(self, api_name: str, data: list) -> list:
        body = {"data": data, "fn_index": self.fns[api_name], "session_hash": self.session_hash}
        joined = self.http.post("queue/join", json={**body, "event_data": None, "trigger_id": None})
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", "queue/data", params={"session_hash": self.session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise RuntimeError(output.get("error") or "event failed")
                    return output["data"]
        raise RuntimeError("stream ended before the event completed")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to report the app's cost per turn."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def serve(base_url: str) -> None:
    """The app, in its own process, with the LLM voice pointed at the model server; prints its URL."""
    from trainer.catalog import load_catalog
    from trainer.llm.seam import Request
    from trainer.team.store import open_store
    from trainer.web.server import launch

    exit_with_parent()
    voice = model_voice(base_url)
    # Warm the OpenAI client once (it builds its response models lazily), as any running server would be.
    voice.chat_model.complete(
        Request([{"role": "user", "content": "hi"}], model="warm-up", temperature=0), stream_cb=len
    )
    folder = Path(tempfile.mkdtemp(prefix="trainer-load-"))
    store = open_store(f"sqlite:///{folder / 'trainer.db'}")
    demo, url = launch(load_catalog(), store, store.db.checkpointer(), port=free_port(), voice=voice)
    print(url, flush=True)
    demo.block_thread()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the model server takes per reply")
    parser.add_argument("--scenario", default="vp_budget_review")
    parser.add_argument(
        "--think", default="3:8", help="MIN:MAX seconds a rep reads the reply and types the next question"
    )
    parser.add_argument("--burst", action="store_true", help="no pauses: all reps send each turn at once")
    parser.add_argument("--serve", metavar="MODEL_URL", help=argparse.SUPPRESS)
    parser.add_argument("--model-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model_server:
        serve_model(args.delay)
        return 0
    if args.serve:
        serve(args.serve)
        return 0

    # The model server and the app each run in their own process, as in production, so neither they
    # nor the clients share a GIL. Whatever happens here (an error, Ctrl-C, SIGTERM), both are ended.
    children: list[subprocess.Popen[str]] = []

    def start(name: str, *flags: str) -> str:
        """Start a child; its first line is its URL."""
        process = subprocess.Popen(
            [sys.executable, __file__, *flags],
            stdin=subprocess.PIPE,  # closed when we end, however we end: the child then exits too
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
        )
        children.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http"):
            raise SystemExit(f"load_app: the {name} did not start (its error is above; it printed {line!r})")
        return line

    def end_children() -> None:
        for process in reversed(children):
            process.terminate()
        for process in reversed(children):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(signum: int, _frame: object) -> None:
        end_children()  # at once: the reps' open requests then fail fast instead of finishing their turns
        raise SystemExit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        base_url = start("model server", "--model-server", "--delay", str(args.delay))
        url = start("app", "--serve", base_url)
        return load(args, url, base_url, app_pid=children[-1].pid)
    finally:
        end_children()


def load(args: argparse.Namespace, url: str, base_url: str, app_pid: int) -> int:
    """The simulated reps against the running app; prints the figures, returns 1 when any turn failed."""
    low, high = (0.0, 0.0) if args.burst else (float(x) for x in args.think.split(":"))
    pacing = f"reps pause {low:g}-{high:g} s before each turn"
    if args.burst:
        pacing = "burst: every turn sent at once"
    print(f"app at {url}; model server at {base_url} ({args.delay:.2f} s per reply); {pacing}")
    fns = {d.get("api_name"): d["id"] for d in httpx.get(url + "config").json()["dependencies"]}

    idle_from = cpu_seconds(app_pid)
    time.sleep(2.0)
    idle = (cpu_seconds(app_pid) - idle_from) / 2.0  # share of a core the app burns doing nothing

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cpu_at_start: list[float] = []
    barrier = threading.Barrier(
        args.sessions,
        action=lambda: cpu_at_start.extend(
            [cpu_seconds(app_pid), cpu_seconds(os.getpid()), time.perf_counter()]
        ),
    )

    def rep(n: int) -> None:
        """One browser tab's worth of traffic: the same queue/join + SSE calls the page makes."""
        with httpx.Client(base_url=url + "gradio_api/", timeout=120) as http:
            page = Page(http, fns, uuid.uuid4().hex)
            try:
                page.call("load", [])
                page.call("start", [f"s:{args.scenario}", "Training"])
            except Exception as exc:
                with lock:
                    errors.append(f"session {n} start: {exc}")
                barrier.abort()
                return
            barrier.wait()  # every rep is in a session: the chatting starts now, for all at once
            pause = random.Random(n)
            for turn in range(args.turns):
                time.sleep(pause.uniform(low, high))  # reading the reply, typing the question
                started = time.perf_counter()
                try:
                    output = page.call("send", [LINES[turn % len(LINES)], None, "Training"])
                    reply = json.dumps(output[0])
                    if "could not answer" in reply:
                        raise RuntimeError(reply[:160])
                except Exception as exc:
                    with lock:
                        errors.append(f"session {n} turn {turn + 1}: {exc}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.sessions) as pool:
        list(pool.map(rep, range(args.sessions)))
    wall = time.perf_counter() - began
    chatting = time.perf_counter() - cpu_at_start[2] if cpu_at_start else 0.0
    cpu = cpu_seconds(app_pid) - cpu_at_start[0] - idle * chatting if cpu_at_start else 0.0
    client_cpu = cpu_seconds(os.getpid()) - cpu_at_start[1] if cpu_at_start else 0.0

    print(
        f"sessions {args.sessions}, turns each {args.turns}, turns played {len(latencies)}, wall {wall:.1f} s"
    )
    if latencies:
        p95 = percentile(latencies, 0.95)
        print(
            f"turn latency: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
            f"max {max(latencies):.2f} s, min {min(latencies):.2f} s"
        )
        print(f"overhead over the model's {args.delay:.2f} s at p95: {p95 - args.delay:+.2f} s")
        per_turn = 1000 * cpu / len(latencies)
        print(
            f"app CPU per turn: {per_turn:.1f} ms "
            f"(beyond its idle {100 * idle:.1f}% of a core, Gradio's queue polling)"
        )
        print(f"load generator CPU per turn (same machine): {1000 * client_cpu / len(latencies):.1f} ms")
    print(f"errors: {len(errors)}")
    for line in errors[:10]:
        print("  " + line)
    return 1 if errors or not latencies else 0


if __name__ == "__main__":
    raise SystemExit(main())
