"""The app's store (users, teams, assignments, sessions, scores, comments, logins) beside the checkpoints.

Rows are plain dataclasses (`trainer.team.rows`, re-exported here) and `Store` holds the queries; the
database they run on comes from `trainer.team.database`. SQL here is plain and portable (text ids made
in Python, `?` placeholders rewritten for PostgreSQL by `trainer.team.postgres`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from trainer.schema import Scorecard
from trainer.team.database import MIGRATIONS, Database, StoreError, open_database
from trainer.team.rows import Assignment, Comment, SessionRow, User

ROLES = ("rep", "manager")
LOCAL_NAME = "you"  # the no-login practice user on localhost; no account may take the name


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _ago(age: timedelta) -> str:
    """The time `age` before now, written as `now()` writes times, so the two compare as text."""
    return (datetime.now(UTC) - age).isoformat(timespec="microseconds")


_SESSION_SELECT = """SELECT s.*, sc.overall, sc.passed, sc.dimensions_json FROM sessions s
    LEFT JOIN scores sc ON sc.session_id = s.id"""


def _session(row: Any) -> SessionRow:
    data = dict(row)
    dims = data.pop("dimensions_json", None)
    passed = data.pop("passed", None)
    data.pop("transcript_json", None)
    return SessionRow(
        **data, passed=None if passed is None else bool(passed), dimensions=json.loads(dims) if dims else None
    )


# ---------------------------------------------------------------- the store


class Store:
    """Plain methods over the database; access rules live in the app layer, not here."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.migrate()

    # -- schema

    def schema_version(self) -> int:
        with self.db.connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            return int(row[0] or 0)

    def migrate(self) -> int:
        """Apply any migrations not yet run; safe to call from several processes at start-up."""
        with self.db.connect() as conn:
            self.db.lock_for_migration(conn)  # first: two instances starting at once must not both migrate
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
            for version, statements in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        return len(MIGRATIONS)

    def shared_value(self, key: str, make: Callable[[], str]) -> str:
        """A value all instances on this database share: made by the first one to ask, then kept."""
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, make())
            )
            return str(conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()[0])

    # -- users

    def add_user(self, name: str, role: str, team: str, password_hash: str) -> User:
        name, team = name.strip(), team.strip()
        if not name or any(c.isspace() for c in name):
            raise StoreError(f"user name {name!r}: use one word without spaces")
        if name == LOCAL_NAME:
            raise StoreError(f"user name {name!r} is kept for local practice without sign-in; pick another")
        if role not in ROLES:
            raise StoreError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
        with self.db.connect() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"user {name!r} already exists")
            conn.execute(
                "INSERT INTO users (name, role, team, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, role, team, password_hash, now()),
            )
        return User(name, role, team)

    def set_password(self, name: str, password_hash: str) -> None:
        """A new password ends every sign-in of the user: whoever knew the old one is signed out."""
        with self.db.connect() as conn:
            if not conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)
            ).rowcount:
                raise StoreError(f"no user {name!r}")
            conn.execute("DELETE FROM logins WHERE username = ?", (name,))

    def user(self, name: str) -> User | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT name, role, team FROM users WHERE name = ?", (name,)).fetchone()
        return User(**dict(row)) if row else None

    def password_hash(self, name: str) -> str | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def users(self, team: str | None = None, role: str | None = None) -> list[User]:
        sql, args = "SELECT name, role, team FROM users WHERE 1 = 1", []
        if team is not None:
            sql, args = sql + " AND team = ?", [*args, team]
        if role is not None:
            sql, args = sql + " AND role = ?", [*args, role]
        with self.db.connect() as conn:
            return [User(**dict(r)) for r in conn.execute(sql + " ORDER BY name", args)]

    def user_count(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    # -- login tokens (only their hashes are kept, so a copy of the database hands out no live logins)

    @staticmethod
    def token_hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def add_login(self, token_hash: str, username: str, max_age: timedelta | None = None) -> None:
        """Keep a new sign-in; with `max_age`, sign-ins older than that are dropped on the way."""
        with self.db.connect() as conn:
            if max_age is not None:
                conn.execute("DELETE FROM logins WHERE created_at < ?", (_ago(max_age),))
            conn.execute(
                "INSERT INTO logins (token_hash, username, created_at) VALUES (?, ?, ?)",
                (token_hash, username, now()),
            )

    def login_user(self, token_hash: str, max_age: timedelta | None = None) -> str | None:
        """Who signed in with this token, if they did no longer than `max_age` ago."""
        since = _ago(max_age) if max_age is not None else ""
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT username FROM logins WHERE token_hash = ? AND created_at >= ?", (token_hash, since)
            ).fetchone()
        return row[0] if row else None

    def drop_login(self, token_hash: str) -> None:
        with self.db.connect() as conn:
            conn.execute("DELETE FROM logins WHERE token_hash = ?", (token_hash,))

    def login_hashes(self) -> list[str]:
        with self.db.connect() as conn:
            return [r[0] for r in conn.execute("SELECT token_hash FROM logins")]

    # -- assignments

    def add_assignment(
        self,
        scenario_id: str,
        *,
        pass_mark: int,
        created_by: str,
        assignee: str | None = None,
        team: str | None = None,
        due: str | None = None,
    ) -> Assignment:
        if (assignee is None) == (team is None):
            raise StoreError("an assignment goes to one rep or one team")
        item = Assignment(
            uuid.uuid4().hex[:12], scenario_id, assignee, team, due, pass_mark, created_by, now()
        )
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO assignments (id, scenario_id, assignee, team, due, pass_mark, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(item.__dict__.values()),
            )
        return item

    def assignment(self, assignment_id: str) -> Assignment | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT * FROM assignments WHERE id = ?", (assignment_id,)).fetchone()
        return Assignment(**dict(row)) if row else None

    def assignments_for(self, user: User) -> list[Assignment]:
        """A rep's own assignments plus their team's, soonest due first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM assignments WHERE assignee = ? OR (team = ? AND team != '')"
                " ORDER BY COALESCE(due, '9999'), created_at",
                (user.name, user.team),
            ).fetchall()
        return [Assignment(**dict(r)) for r in rows]

    def team_assignments(self, team: str) -> list[Assignment]:
        """Everything assigned to the team or to one of its members."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT a.* FROM assignments a LEFT JOIN users u ON u.name = a.assignee"
                " WHERE a.team = ? OR u.team = ? ORDER BY COALESCE(a.due, '9999'), a.created_at",
                (team, team),
            ).fetchall()
        return [Assignment(**dict(r)) for r in rows]

    # -- sessions and scores

    def add_session(
        self,
        session_id: str,
        username: str,
        *,
        scenario_id: str | None,
        mode: str,
        source: str = "practice",
        assignment_id: str | None = None,
        pass_mark: int | None = None,
        title: str = "",
    ) -> SessionRow:
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO sessions (id, username, scenario_id, assignment_id, mode, source, status,"
                " pass_mark, title, started_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
                (session_id, username, scenario_id, assignment_id, mode, source, pass_mark, title, now()),
            )
        row = self.session(session_id)
        assert row is not None
        return row

    def session(self, session_id: str) -> SessionRow | None:
        with self.db.connect() as conn:
            row = conn.execute(_SESSION_SELECT + " WHERE s.id = ?", (session_id,)).fetchone()
        return _session(row) if row else None

    def finish_session(self, session_id: str, card: Scorecard, transcript: dict[str, Any]) -> None:
        """Store the final transcript and scorecard of the path taken; the session is then read-only."""
        with self.db.connect() as conn:
            conn.execute(
                "UPDATE sessions SET status = 'ended', ended_at = ?, transcript_json = ? WHERE id = ?",
                (now(), json.dumps(transcript, ensure_ascii=False), session_id),
            )
            conn.execute("DELETE FROM scores WHERE session_id = ?", (session_id,))
            conn.execute(
                "INSERT INTO scores (session_id, overall, passed, pass_mark, dimensions_json, scorecard_json,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    card.overall,
                    int(bool(card.passed)),
                    card.pass_mark,
                    json.dumps(card.dimensions),
                    card.model_dump_json(),
                    now(),
                ),
            )

    def reopen_session(self, session_id: str) -> None:
        """A rewind after the end: the old scorecard no longer describes the path being taken."""
        with self.db.connect() as conn:
            conn.execute("UPDATE sessions SET status = 'active', ended_at = NULL WHERE id = ?", (session_id,))
            conn.execute("DELETE FROM scores WHERE session_id = ?", (session_id,))

    def scorecard(self, session_id: str) -> Scorecard | None:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT scorecard_json FROM scores WHERE session_id = ?", (session_id,)
            ).fetchone()
        return Scorecard.model_validate_json(row[0]) if row else None

    def transcript(self, session_id: str) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            row = conn.execute("SELECT transcript_json FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def sessions_of(self, usernames: Sequence[str]) -> list[SessionRow]:
        """Sessions of these users, oldest first."""
        if not usernames:
            return []
        marks = ", ".join("?" for _ in usernames)
        with self.db.connect() as conn:
            rows = conn.execute(
                _SESSION_SELECT + f" WHERE s.username IN ({marks}) ORDER BY s.started_at, s.id",
                list(usernames),
            ).fetchall()
        return [_session(r) for r in rows]

    def unfinished_sessions(self, username: str) -> list[SessionRow]:
        """This user's practice sessions that can still take a turn (not ended, not uploads), newest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                _SESSION_SELECT + " WHERE s.username = ? AND s.source = 'practice' AND s.status != 'ended'"
                " ORDER BY s.started_at DESC, s.id DESC",
                (username,),
            ).fetchall()
        return [_session(r) for r in rows]

    # -- comments

    def add_comment(self, session_id: str, author: str, text: str) -> Comment:
        item = Comment(uuid.uuid4().hex[:12], session_id, author, text.strip(), now())
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO comments (id, session_id, author, text, created_at) VALUES (?, ?, ?, ?, ?)",
                tuple(item.__dict__.values()),
            )
        return item

    def comments(self, session_id: str) -> list[Comment]:
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM comments WHERE session_id = ? ORDER BY created_at, id", (session_id,)
            ).fetchall()
        return [Comment(**dict(r)) for r in rows]

    def comment_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        if not session_ids:
            return {}
        marks = ", ".join("?" for _ in session_ids)
        with self.db.connect() as conn:
            rows = conn.execute(
                f"SELECT session_id, COUNT(*) FROM comments WHERE session_id IN ({marks})"
                " GROUP BY session_id",
                list(session_ids),
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}


def open_store(url: str | None = None) -> Store:
    return Store(open_database(url))
