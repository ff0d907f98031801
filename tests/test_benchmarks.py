"""The benchmarks still run: each one at a tiny size, as a subprocess, exits 0 and prints its figures.

Their numbers are for people and are not asserted; what is asserted is that they cannot rot unnoticed
(the load test once failed at warm-up against its own fake model server and left that server running).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def bench(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_load_app_at_two_reps_one_turn_answers_every_turn_and_leaves_no_process_behind():
    out = bench("load_app.py", "--sessions", "2", "--turns", "1", "--delay", "0.05", "--think", "0:0")
    assert "turns played 2" in out
    assert re.search(r"turn latency: p50 [\d.]+ s, p95 [\d.]+ s, max [\d.]+ s, min [\d.]+ s", out)
    assert re.search(r"app CPU per turn: [\d.]+ ms", out)
    assert re.search(r"^errors: 0$", out, re.M)
    for port in re.findall(r"http://127\.0\.0\.1:(\d+)/", out):  # the app's and the model server's
        with pytest.raises(ConnectionRefusedError):  # both processes ended with the benchmark
            socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()


def test_load_app_scaled_out_runs_every_phase_and_loses_nothing_when_an_instance_dies(postgres_server):
    """`--instances 2`: saturation for 1 and 2 instances, a human-pace run and a kill, all through nginx."""
    from trainer.deploy.nginx import nginx_binary

    nginx_binary()  # a clear error when nginx is missing (scripts/test installs it)
    out = bench("load_app.py", "--instances", "2", "--sessions", "4", "--turns", "3", "--saturate", "4",
                "--sat-turns", "2", "--delay", "0.05", "--think", "0.2:0.4", "--kill-after", "0.3",
                timeout=600)  # fmt: skip
    assert re.search(r"saturation, 1 instance\(s\), 4 reps x 2 turns, no pauses: [\d.]+ turns/s", out), out
    assert re.search(r"saturation, 2 instance\(s\).*errors 0", out), out
    assert re.search(r"turns/s at saturation, 2 instances vs 1: [\d.]+x over the whole phase; "
                     r"[\d.]+x while every rep was still sending \([\d.]+ -> [\d.]+\)", out), out  # fmt: skip
    assert re.search(r"^human pace, 2 instance\(s\), 4 reps x 3 turns.*errors 0", out, re.M), out
    killed = re.search(
        r"killed 0.3 s in: reps moved (\d+), all finished (\w+), turns re-sent \d+, "
        r"stored turns lost (\d+), sessions lost (\d+), turns stored twice (\d+)",
        out,
    )
    assert killed, out
    moved, finished, lost, sessions_lost, twice = killed.groups()
    assert int(moved) >= 1 and finished == "True" and (lost, sessions_lost, twice) == ("0", "0", "0")


@pytest.mark.parametrize(
    ("args", "figure"),
    [
        (("bench_classify.py", "--n", "300"), r"cpu +[\d.]+ s: [\d,]+ turns/s"),
        (("bench_grade.py", "--n", "10"), r"grade 20-turn transcript: p50 [\d.]+ ms, p95 [\d.]+ ms"),
        (
            ("bench_backend.py", "--n", "2", "--delay", "0.01"),
            r"persona turn, LLM voice +median +[\d.]+ ms",
        ),
        (("bench_startup.py", "--repeat", "1"), r"trainer serve +[\d.]+ s +[\d.]+x"),
    ],
    ids=["classify", "grade", "backend", "startup"],
)
def test_each_benchmark_runs_at_a_tiny_size(args, figure):
    assert re.search(figure, bench(*args))
