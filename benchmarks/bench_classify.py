"""Throughput of `trainer.grader.classifier.predict` on one core, over synthetic sales turns.

The grader classifies every turn of every session, so this must stay well above 5,000 turns/s.
Turns are generated here from templates (no corpus text).

    /tmp/venv/bin/python benchmarks/bench_classify.py [--n 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.grader.classifier import load_model, predict

_OPENERS = ["", "Okay. ", "Thanks, that helps. ", "Right. ", "Got it. So ", "I hear you. "]
_QUESTIONS = [
    "what is driving the push to cut {thing} right now?",
    "how does your team handle {thing} today?",
    "who else is involved in deciding on {thing}?",
    "is {thing} a priority for the board this year?",
    "when does your contract for {thing} come up for renewal?",
    "what would success with {thing} look like for you?",
]
_PITCHES = [
    "Our platform cuts {thing} costs by about thirty percent.",
    "We can include {thing} at no extra charge if you sign this month.",
    "Wouldn't it be great if {thing} took half the time?",
    "Can we book a demo of our {thing} module for Tuesday?",
    "You should consolidate {thing} onto one vendor.",
]
_REFLECTIONS = [
    "So the board wants the savings on {thing} before Q3.",
    "It sounds like {thing} has been a real headache for your people.",
]
_NEUTRAL = [
    "Thanks for your time.",
    "Okay.",
    "mm-hmm",
    "Can you hear me?",
    "I'll send the notes after the call.",
]
_THINGS = ["vendor spend", "training", "reporting", "onboarding", "logistics software", "the rollout"]
_CONTEXTS = [
    None,
    "Look, we've been through three vendors in five years and every one of them promised savings. The last"
    " one cost us a quarter of firefighting, my people worked weekends, and the CFO still asks me about it.",
    "We need to cut twelve percent by year end.",
    "Listen, you work for me.",
    "I'm running a business, not shopping for products.",
    "The pilot went okay, but my people are worried about training.",
]


def synthetic_turns(n: int, seed: int = 7) -> list[tuple[str, str | None]]:
    """A deterministic mix of questions, pitches, reflections and small talk of realistic lengths."""
    rng = random.Random(seed)
    out: list[tuple[str, str | None]] = []
    for _ in range(n):
        kind = rng.random()
        thing = rng.choice(_THINGS)
        if kind < 0.4:
            q = rng.choice(_QUESTIONS).format(thing=thing)
            opener = rng.choice(_OPENERS)
            text = opener + (q if opener.endswith("So ") else q[0].upper() + q[1:])
        elif kind < 0.7:
            text = rng.choice(_PITCHES).format(thing=thing)
        elif kind < 0.85:
            text = rng.choice(_REFLECTIONS).format(thing=thing)
        else:
            text = rng.choice(_NEUTRAL)
        if rng.random() < 0.2:
            text = text + " " + rng.choice(_PITCHES).format(thing=rng.choice(_THINGS))
        out.append((text, rng.choice(_CONTEXTS)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args(argv)
    turns = synthetic_turns(args.n)
    t0 = time.perf_counter()
    load_model()
    load_s = time.perf_counter() - t0
    for text, ctx in turns[:200]:  # warm-up
        predict(text, ctx)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for text, ctx in turns:
        predict(text, ctx)
    cpu = time.process_time() - c0
    elapsed = time.perf_counter() - t0
    mean_chars = sum(len(t) for t, _ in turns) / len(turns)
    print(f"weights load: {load_s * 1000:.0f} ms")
    # CPU time is what one core delivers; wall time also counts other processes competing for it.
    print(f"{len(turns)} turns (mean {mean_chars:.0f} chars)")
    print(f"  cpu  {cpu:.2f} s: {len(turns) / cpu:,.0f} turns/s")
    print(f"  wall {elapsed:.2f} s: {len(turns) / elapsed:,.0f} turns/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
