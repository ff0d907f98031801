"""`trainer serve` as the README's first command runs it: a process that prints its URL and serves the app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from trainer.team.passwords import hash_password
from trainer.team.store import open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data_dir: Path, database_url: str | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start `trainer serve` and return it with its first line of output (the URL line)."""
    env = {**os.environ, "TRAINER_DATA_DIR": str(data_dir)}
    if database_url:
        env["TRAINER_DATABASE_URL"] = database_url
    env.pop("GRADIO_ANALYTICS_ENABLED", None)  # as on a fresh machine (the app turns analytics off)
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "serve", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    return process, process.stdout.readline()


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=20)


def test_serve_prints_its_url_and_the_page_works_without_sign_in(tmp_path):
    started = time.monotonic()
    process, line = serve(tmp_path / "data")
    try:
        assert "Discovery Trainer is running at http://127.0.0.1:" in line, line
        assert "no sign-in needed on this machine" in line
        url = line.split(" at ")[1].split()[0]
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "Discovery Trainer" in page.text
        assert httpx.get(url + "config", timeout=10).status_code == 200  # no login page in front
        ready = time.monotonic() - started
        print(f"trainer serve answered in {ready:.1f} s")  # for people; a few seconds is expected
    finally:
        stop(process)


def test_serve_says_sign_in_is_required_once_users_exist(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(f"sqlite:///{data / 'trainer.db'}")
    store.add_user("maya", "manager", "east", hash_password("a long enough password"))
    process, line = serve(data)
    try:
        assert "(sign-in required" in line, line
        url = line.split(" at ")[1].split()[0]
        assert httpx.get(url + "config", timeout=10).status_code == 401
    finally:
        stop(process)
