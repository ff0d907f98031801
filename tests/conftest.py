"""Shared fixtures: the shipped catalog, a fresh session runner, and an isolated data dir per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
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


# ---------------------------------------------------------------- both databases

# CI sets this: there a missing PostgreSQL is a failure, not a skip (`scripts/test` installs it).
REQUIRE_POSTGRES = os.environ.get("TRAINER_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL cluster for the whole run (Debian's server, as its own user under root)."""
    from trainer.deploy.postgres_local import PostgresUnavailable, start_local_postgres

    try:
        server = start_local_postgres()
    except PostgresUnavailable as exc:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL tests need the server: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty database of each kind: a SQLite file, or a new database on the shared server.

    Every pool a test opens on it is closed afterwards, so the server never runs out of connections.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trainer.db'}"
        return
    import uuid

    import psycopg

    from trainer.team import postgres

    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = server.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    opened: list[postgres.PostgresPools] = []
    original = postgres.PostgresPools.__init__

    def recording_init(self, url: str) -> None:
        original(self, url)
        opened.append(self)

    monkeypatch.setattr(postgres.PostgresPools, "__init__", recording_init)
    yield server.url.rsplit("/", 1)[0] + f"/{name}"
    for pools in opened:
        pools.close()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
