"""The database URL seam: one URL chooses both the store's connection and the LangGraph checkpointer.

`sqlite:///PATH` (the embedded default) or `postgresql://USER:PASSWORD@HOST:PORT/DB` (several app
instances sharing one server, see `trainer.team.postgres`): moving between them changes the URL, not the
code that calls the store. The schema's migrations live here too, beside the connection they run on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.paths import data_dir


class StoreError(ValueError):
    """A request the store cannot take (duplicate user, unknown id, bad URL); str() is for the user."""


def safe_url(url: str) -> str:
    """The URL as it may be shown: any `user:password@` is cut, so no message or log carries a password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else url.rsplit("@", 1)[-1]


def default_url() -> str:
    """`$TRAINER_DATABASE_URL`, else one SQLite file in the data dir holding store and checkpoints."""
    return os.environ.get("TRAINER_DATABASE_URL") or f"sqlite:///{data_dir() / 'trainer.db'}"


# ---------------------------------------------------------------- migrations

# Append only: each entry runs once, in order, and bumps the schema version by one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE users (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, team TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL, created_at TEXT NOT NULL)""",
        """CREATE TABLE assignments (
            id TEXT PRIMARY KEY, scenario_id TEXT NOT NULL, assignee TEXT, team TEXT,
            due TEXT, pass_mark INTEGER NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL)""",
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY, username TEXT NOT NULL, scenario_id TEXT, assignment_id TEXT,
            mode TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, pass_mark INTEGER,
            title TEXT NOT NULL DEFAULT '', transcript_json TEXT, started_at TEXT NOT NULL, ended_at TEXT)""",
        "CREATE INDEX sessions_by_user ON sessions (username, started_at)",
        """CREATE TABLE scores (
            session_id TEXT PRIMARY KEY, overall REAL NOT NULL, passed INTEGER NOT NULL,
            pass_mark INTEGER, dimensions_json TEXT NOT NULL, scorecard_json TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE comments (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX comments_by_session ON comments (session_id, created_at)",
        """CREATE TABLE logins (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, created_at TEXT NOT NULL)""",
    ],
    [
        # Values every app instance on this database must agree on (the sign-in cookie's name).
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
]


# ---------------------------------------------------------------- the URL seam


@dataclass(frozen=True)
class Database:
    """A database chosen by URL: opens store connections and builds the matching checkpointer."""

    url: str
    pools: Any = field(default=None, repr=False, compare=False)  # PostgresPools for postgresql:// URLs

    def __repr__(self) -> str:  # never the password, should a Database end up in a log or a traceback
        return f"Database({safe_url(self.url)!r})"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///")).expanduser()

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """One unit of work in one transaction: a short-lived SQLite connection, or one from the pool."""
        if self.pools is not None:
            with self.pools.connect() as pg:
                yield pg
            return
        conn = sqlite3.connect(str(self.sqlite_path), timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: safe, and no fsync per small write
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def lock_for_migration(self, conn: Any) -> None:
        """Hold the schema for this transaction, so processes starting together migrate one at a time."""
        if self.pools is not None:
            self.pools.lock_for_migration(conn)
        else:
            conn.execute("BEGIN IMMEDIATE")

    def checkpointer(self) -> Any:
        """The LangGraph checkpointer living in the same database as the store."""
        if self.pools is not None:
            return self.pools.checkpointer()
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(str(self.sqlite_path), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")
        saver = SqliteSaver(conn)
        saver.setup()
        return saver


def _private_sqlite_file(path: Path) -> None:
    """The database file, owner-only (0600) before SQLite first opens it, in a 0700 folder when we make it.

    SQLite gives its -wal and -shm files the mode of the database file, so they are 0600 too; a file (or
    -wal, -shm) left more open by an earlier version is narrowed to 0600.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # an empty file is an empty database
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def open_database(url: str | None = None) -> Database:
    """The database a URL names; a PostgreSQL server is reached at once, so a bad URL fails here."""
    url = url or default_url()
    if url.startswith("sqlite:///"):
        db = Database(url)
        _private_sqlite_file(db.sqlite_path)
        with sqlite3.connect(str(db.sqlite_path)) as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # readers never wait for the one writer
        return db
    if url.startswith(("postgresql://", "postgres://")):
        from trainer.team.postgres import PostgresPools

        pools = PostgresPools(url)
        pools.check()
        return Database(url, pools)
    raise StoreError(f"{safe_url(url)}: unknown database URL (use sqlite:///PATH or postgresql://...)")
