"""How long `trainer` takes to start, against what it is built on: the CLI against `import typer, rich`, and
`trainer serve` against a bare Gradio app launched the same way.

A user feels this on every command; the heavy libraries (LangGraph, model clients, Gradio) must load only
for the commands that use them. Targets: each command within 3x of the typer+rich import, and serve
within 1.5x of bare Gradio. Runs are alternated and the median of --repeat runs is reported; everything
runs offline (OPENAI_* unset) in a temporary data dir, and every process started is stopped.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI_TARGET = 3.0
SERVE_TARGET = 1.5
SERVE_TIMEOUT = 90.0  # seconds for one server to answer before the run is abandoned

CLASSIFY_LINES = "".join(
    json.dumps(line) + "\n"
    for line in [
        {"id": 1, "text": "What's keeping you up at night about the rollout?", "context": "We start soon."},
        {"id": 2, "text": "Our platform cuts onboarding time by 40%, can I show you a demo?"},
        {"id": 3, "text": "Thanks for having me.", "context": "Come in."},
    ]
)
# The floor under any typer command: typer 0.29 builds each option's converter with pydantic at parse time.
TYPER_APP = """from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()


@app.command()
def listing(catalog: Annotated[Path | None, typer.Option("--catalog")] = None) -> None:
    print(catalog)


@app.command()
def other() -> None:
    pass


app()
"""
CLI_CASES: dict[str, tuple[list[str], str | None]] = {
    "import typer, rich.console": (["-c", "import typer, rich.console"], None),
    "(a bare typer app's command)": (["-c", TYPER_APP, "listing"], None),
    "trainer --help": (["-m", "trainer", "--help"], None),
    "trainer scenarios": (["-m", "trainer", "scenarios"], None),
    "trainer validate": (["-m", "trainer", "validate"], None),
    "trainer classify (3 lines)": (["-m", "trainer", "classify"], CLASSIFY_LINES),
}
BARE_GRADIO = """import sys

import gradio as gr

with gr.Blocks() as demo:
    pass
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), prevent_thread_lock=True)
demo.block_thread()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_command(args: list[str], stdin: str | None, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def time_server(args: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds from starting `python ARGS PORT` until GET / answers 200 there; the server is then stopped."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with log.open("w") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *args, str(port)], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        try:
            while not answers(url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{' '.join(args)} exited {process.returncode}: {log.read_text()[-500:]}"
                    )
                if time.perf_counter() - started > SERVE_TIMEOUT:
                    raise RuntimeError(f"{' '.join(args)}: no answer on {url} after {SERVE_TIMEOUT:.0f} s")
                time.sleep(0.05)
            return time.perf_counter() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def medians(cases: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """Run every case once per round, rounds alternating the cases, and keep each case's median."""
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, measure in cases.items():
            runs[name].append(measure())
    return {name: statistics.median(times) for name, times in runs.items()}


def report(rows: dict[str, float], baseline: str, target: float) -> None:
    base = rows[baseline]
    for name, seconds in rows.items():
        ratio = seconds / base
        verdict = "" if name == baseline else f"  target {target:g}x: {'ok' if ratio <= target else 'OVER'}"
        print(f"  {name:<28} {seconds:7.3f} s  {ratio:5.2f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case (median reported)")
    repeat = max(1, parser.parse_args().repeat)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        env |= {"TRAINER_DATA_DIR": str(Path(tmp) / "data"), "GRADIO_ANALYTICS_ENABLED": "False"}
        bare = Path(tmp) / "bare_gradio.py"
        bare.write_text(BARE_GRADIO, encoding="utf-8")
        log = Path(tmp) / "server.log"

        print(f"Startup, median of {repeat} alternated run(s), {sys.executable}")
        cli = {
            name: (lambda args=args, stdin=stdin: time_command(args, stdin, env))
            for name, (args, stdin) in CLI_CASES.items()
        }
        time_command(*CLI_CASES["trainer --help"], env)  # warm the bytecode cache outside the timings
        report(medians(cli, repeat), "import typer, rich.console", CLI_TARGET)

        print("Until GET / answers 200 on 127.0.0.1")
        servers = {
            "bare gr.Blocks().launch()": lambda: time_server([str(bare)], env, log),
            "trainer serve": lambda: time_server(["-m", "trainer", "serve", "--port"], env, log),
        }
        report(medians(servers, repeat), "bare gr.Blocks().launch()", SERVE_TARGET)


if __name__ == "__main__":
    main()
