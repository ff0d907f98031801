"""Benchmark: what the LLM backend adds over the endpoint's own latency; calls and tokens per session.

A local OpenAI-compatible server (tests/fake_openai_server.py) answers every request after a fixed delay.
We time, per call: raw HTTP (httpx), the openai SDK alone, our `OpenAIChatModel.complete` (tenacity,
parsing, usage), streamed, and a whole persona turn (`Sessions.send`: assess, state, prompt, model,
checkpoint)
against the same turn with the offline voice. Then calls per turn and tokens per session from the shipped
recordings (evals/recordings, real token counts from llama.cpp). Numbers are printed, never asserted.

Run: python benchmarks/bench_backend.py [--delay 0.05] [--n 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import openai  # noqa: E402

from tests.fake_openai_server import FakeOpenAI  # noqa: E402
from trainer.catalog import load_catalog  # noqa: E402
from trainer.llm.openai_client import OpenAIChatModel  # noqa: E402
from trainer.llm.seam import Request  # noqa: E402
from trainer.roleplay.llm_voice import LLMVoice  # noqa: E402
from trainer.roleplay.session import Sessions  # noqa: E402

MESSAGES = [
    {"role": "system", "content": "You are Renata Okafor. " * 40},
    {"role": "user", "content": "What's weighing on you most this quarter?"},
    {
        "role": "system",
        "content": 'Direction. Something like: "Money comes up in every meeting I have this month."',
    },
]


def timed(fn, n: int) -> list[float]:
    fn()  # warm up (connection, imports)
    runs = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return runs


def row(name: str, runs: list[float], delay_ms: float) -> str:
    median = statistics.median(runs)
    p95 = sorted(runs)[int(len(runs) * 0.95) - 1]
    over = median - delay_ms
    return f"{name:<40} median {median:7.1f} ms  p95 {p95:7.1f} ms  over the endpoint's delay {over:6.1f} ms"


def per_call(server: FakeOpenAI, n: int, delay_ms: float) -> None:
    body = {"model": "m", "messages": MESSAGES, "temperature": 0.7, "max_tokens": 160}
    http = httpx.Client(timeout=10)
    sdk = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
    ours = OpenAIChatModel(server.base_url, "bench")
    print(
        row(
            "raw HTTP POST (httpx)",
            timed(lambda: http.post(f"{server.base_url}/chat/completions", json=body), n),
            delay_ms,
        )
    )
    print(row("openai SDK create()", timed(lambda: sdk.chat.completions.create(**body), n), delay_ms))
    print(
        row(
            "OpenAIChatModel.complete()",
            timed(lambda: ours.complete(Request(MESSAGES, model="m", temperature=0.7)), n),
            delay_ms,
        )
    )
    request = Request(MESSAGES, model="m", temperature=0.7)
    stream = lambda: ours.complete(request, stream_cb=lambda _: None)  # noqa: E731
    print(row("OpenAIChatModel.complete(), streamed", timed(stream, n), delay_ms))


def per_turn(server: FakeOpenAI, n: int, delay_ms: float) -> None:
    catalog = load_catalog()
    line = "What's on your plate this quarter?"

    def turn(sessions: Sessions):
        view = sessions.start("vp_budget_review", seed=1)
        return lambda: sessions.send(sessions.rewind(view.id, 0).id, line)

    offline = timed(turn(Sessions(catalog)), n)
    voice = LLMVoice(OpenAIChatModel(server.base_url, "bench"), "m")
    llm = timed(turn(Sessions(catalog, voice=voice)), n)
    print(row("persona turn, offline voice", offline, 0))
    print(row("persona turn, LLM voice", llm, delay_ms))
    print(
        f"{'':<40} LLM turn - offline turn - delay: "
        f"{statistics.median(llm) - statistics.median(offline) - delay_ms:.1f} ms"
    )


def recorded() -> None:
    sessions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    turns: dict[str, set[int]] = defaultdict(set)
    for path in sorted((ROOT / "evals" / "recordings" / "persona_fidelity").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            usage = record["response"]["usage"]
            stats = sessions[record["case"]]
            stats["calls"] += 1
            stats["tokens"] += usage["prompt_tokens"] + usage["completion_tokens"]
            stats["prompt"] += usage["prompt_tokens"]
            turns[record["case"]].add(int(record["label"].split()[2]))
    if not sessions:
        print("no recordings under evals/recordings/persona_fidelity")
        return
    calls = sum(s["calls"] for s in sessions.values())
    played = sum(len(t) for t in turns.values())
    tokens = sorted(s["tokens"] for s in sessions.values())
    print(f"recorded sessions: {len(sessions)}, persona turns {played}, model calls {calls}")
    print(
        f"calls per rep turn: {calls / played:.2f} (1 per reply, +1 when a closing line follows the last one)"
    )
    print(
        f"tokens per session: median {statistics.median(tokens):,.0f}, "
        f"min {tokens[0]:,}, max {tokens[-1]:,}; "
        f"prompt share {sum(s['prompt'] for s in sessions.values()) / sum(tokens):.0%}"
    )
    per_call_tokens = sum(tokens) / calls
    print(f"tokens per call: {per_call_tokens:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.05, help="the endpoint's fixed latency, seconds")
    parser.add_argument("--n", type=int, default=40, help="timed calls per measurement")
    args = parser.parse_args()
    delay_ms = args.delay * 1000
    with FakeOpenAI(delay=args.delay) as server:
        print(f"local OpenAI-compatible server on 127.0.0.1, fixed delay {delay_ms:.0f} ms; n={args.n}")
        per_call(server, args.n, delay_ms)
        per_turn(server, args.n, delay_ms)
    recorded()


if __name__ == "__main__":
    main()
