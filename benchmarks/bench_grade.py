"""Benchmark: grading a 20-turn transcript (10 rep turns) end to end, on one core. Target: < 20 ms.

Run: python benchmarks/bench_grade.py [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from trainer.grader.scorecard import grade_transcript
from trainer.schema import Transcript, Turn

SCRIPTS = Path(__file__).resolve().parent.parent / "evals" / "scripts"
PERSONA_LINES = [
    "We're under a lot of pressure on costs this year, and the board is watching every line.",
    "Honestly, the team is stretched. We lost two seniors in the spring.",
    "I'm not sure where this is going. What exactly do you want from me?",
    "Fine. Go on.",
]


def transcript(n_rep_turns: int = 10) -> Transcript:
    rep = [line.strip() for path in sorted(SCRIPTS.glob("*.txt")) for line in path.read_text().splitlines()]
    rep = [line for line in rep if line]
    turns: list[Turn] = []
    for i in range(n_rep_turns):
        turns.append(Turn(speaker="persona", text=PERSONA_LINES[i % len(PERSONA_LINES)]))
        turns.append(Turn(speaker="trainee", text=rep[(i * 7) % len(rep)]))
    return Transcript(id="bench", turns=turns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="timed gradings")
    args = parser.parse_args()
    t = transcript()
    grade_transcript(t)  # warm caches (weights, rubrics)
    runs = []
    for _ in range(args.n):
        start = time.perf_counter()
        grade_transcript(t)
        runs.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(runs)
    p95 = sorted(runs)[int(len(runs) * 0.95)]
    headroom = 20 / p50
    print(f"grade 20-turn transcript: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    print(f"target < 20 ms: {headroom:.1f}x headroom at p50")


if __name__ == "__main__":
    main()
