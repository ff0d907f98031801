"""Shared fixtures: the shipped catalog, a fresh session runner, and an isolated data dir per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.catalog import load_catalog
from trainer.roleplay.play import play_lines
from trainer.roleplay.session import Sessions

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "evals" / "scripts"
SEED_SCENARIOS = [
    "vp_budget_review",
    "cio_poc_checkin",
    "work_for_me_kickoff",
    "hallway_one_to_one",
    "business_not_shopping",
]


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("TRAINER_DATA_DIR", str(path))
    monkeypatch.delenv("TRAINER_CATALOG", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return path


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def sessions(catalog) -> Sessions:
    return Sessions(catalog)


def script(scenario_id: str, kind: str) -> list[str]:
    path = SCRIPTS / f"{scenario_id}.{kind}.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def play(sessions: Sessions, scenario_id: str, lines: list[str], seed: int = 1):
    """Play lines until the persona ends the meeting; returns the final view and the views per turn."""
    played = play_lines(sessions, scenario_id, lines, seed=seed)
    return played.view, played.views


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real `trainer` command in a subprocess (a new process, as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
    )


def cli_json(*args: str, stdin: str | None = None) -> list:
    result = cli(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
