"""Load test of the web app: N reps chatting at once against a model server that takes 1.0 s per reply.

Starts a local OpenAI-compatible fake (stdlib, streaming and not, fixed delay) and the app, each in its
own process, with the LLM voice pointed at the fake; then N simulated browser tabs (Gradio's queue
protocol over keep-alive HTTP/1.1, every tab in one asyncio event loop so the generator takes little CPU
from the app it measures) that each start a scenario and send turns.
Prints turn-latency percentiles, the app's CPU per turn and errors; the figures are for people, the exit
status only says whether every turn was answered (1 when any failed). Each rep pauses a few seconds before
every question, as people do while they read the reply and type; `--burst` drops the pauses and has all
reps press Enter in the same instant. Both child processes end with this one, however it ends.

    python benchmarks/load_app.py                 # 50 sessions x 4 turns, 1.0 s per reply, 3-8 s pauses
    python benchmarks/load_app.py --burst         # the worst case: every turn sent at once
    python benchmarks/load_app.py --sessions 10 --turns 2 --delay 0.5 --think 1:2
    python benchmarks/load_app.py --sessions 2 --turns 1 --delay 0.05 --think 0:0   # smoke test, ~15 s

With `--instances N` the app runs scaled out instead (see load_proxy.py): N `trainer serve` processes on a
throwaway PostgreSQL behind nginx; one run prints saturation turns/s for 1 and N instances, a human-pace
run through the proxy, and one with an instance killed mid-run (lost turns and sessions checked in the
database).

    python benchmarks/load_app.py --instances 2                       # ~3 minutes
    python benchmarks/load_app.py --instances 2 --sessions 4 --turns 3 --saturate 4 --sat-turns 2 \
        --delay 0.05 --think 0.2:0.4 --kill-after 0.3                   # smoke test, ~1 minute
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from asynchttp import Client
from loadkit import LINES, Gate, Page, cpu_seconds, exit_with_parent, free_port, percentile, serve_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def model_voice(base_url: str):
    """The LLM backend's own voice (roleplay.llm_voice) over the OpenAI client, pointed at the fake."""
    from trainer.llm.openai_client import OpenAIChatModel
    from trainer.roleplay.llm_voice import LLMVoice

    return LLMVoice(OpenAIChatModel(base_url=base_url, api_key="not-needed", timeout=30), model="fake-1s")


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
    parser.add_argument("--instances", type=int, help="scale out: N instances behind nginx on PostgreSQL")
    parser.add_argument(
        "--saturate", type=int, default=120, help="with --instances: reps in the saturation runs"
    )
    parser.add_argument("--sat-turns", type=int, default=8, help="with --instances: turns per saturation rep")
    parser.add_argument(
        "--kill-after",
        type=float,
        default=8.0,
        help="with --instances: seconds in that the busiest instance is killed",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="with --instances: instances on any core (default: each on its own, as scripts/scale-out does)",
    )
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
        if args.instances:
            from load_proxy import run_scale_out

            return run_scale_out(args, base_url)
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
    cpu_at_start: list[float] = []
    gate = Gate(
        args.sessions,
        action=lambda: cpu_at_start.extend(
            [cpu_seconds(app_pid), cpu_seconds(os.getpid()), time.perf_counter()]
        ),
    )

    async def rep(n: int) -> None:
        """One browser tab's worth of traffic: the same queue/join + SSE calls the page makes."""
        async with Client(url) as http:
            page = Page(http, fns, uuid.uuid4().hex)
            try:
                await page.call("load", [])
                await page.call("start", [f"s:{args.scenario}", "Training"])
            except Exception as exc:
                errors.append(f"session {n} start: {exc}")
                await gate.abort()
                return
            try:
                await gate.wait()  # every rep is in a session: the chatting starts now, for all at once
            except asyncio.BrokenBarrierError:
                return  # another rep could not start (its error is counted): no chatting
            pause = random.Random(n)
            for turn in range(args.turns):
                await asyncio.sleep(pause.uniform(low, high))  # reading the reply, typing the question
                started = time.perf_counter()
                try:
                    output = await page.call("send", [LINES[turn % len(LINES)], None, "Training"])
                    reply = json.dumps(output[0])
                    if "could not answer" in reply:
                        raise RuntimeError(reply[:160])
                except Exception as exc:
                    errors.append(f"session {n} turn {turn + 1}: {exc}")
                    continue
                latencies.append(time.perf_counter() - started)

    async def every_rep() -> None:
        await asyncio.gather(*(rep(n) for n in range(args.sessions)))

    began = time.perf_counter()
    asyncio.run(every_rep())  # all reps in one thread's event loop: little CPU taken from the app
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
