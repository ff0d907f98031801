"""The store: migrations, users with hashed passwords, sessions and scores, and `trainer users`.

Tests taking `database_url` run twice: on a SQLite file and on a database of a real PostgreSQL server.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from tests.app_fixtures import PASSWORD, make_store
from tests.conftest import cli
from trainer.schema import Scorecard
from trainer.team.database import MIGRATIONS, StoreError, open_database
from trainer.team.logins import StoredTokens
from trainer.team.passwords import check_login, hash_password, verify_password
from trainer.team.store import open_store


def test_migrations_run_once_and_a_reopened_store_keeps_its_data(database_url):
    url = database_url
    store = open_store(url)
    assert store.schema_version() == len(MIGRATIONS)
    store.add_user("ravi", "rep", "east", hash_password(PASSWORD))
    again = open_store(url)
    assert again.schema_version() == len(MIGRATIONS)
    assert again.user("ravi").team == "east"


def test_store_and_checkpoints_share_one_database_chosen_by_url(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    store = open_store(db.url)
    saver = db.checkpointer()
    assert saver is not None
    tables = {r[0] for r in sqlite3.connect(tmp_path / "one.db").execute("SELECT name FROM sqlite_master")}
    assert {"users", "sessions", "scores", "comments", "assignments", "checkpoints"} <= tables
    assert store.db.url == db.url


def test_unknown_or_unreachable_urls_are_refused_with_a_message_that_hides_the_password():
    with pytest.raises(StoreError, match="unknown database URL") as exc:
        open_database("mysql://app:secret@x/db")
    assert "secret" not in str(exc.value)
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as exc:
        open_database("postgresql://app:secret@127.0.0.1:9/trainer")  # port 9: nothing listens
    assert "secret" not in str(exc.value) and "127.0.0.1:9/trainer" in str(exc.value)
    refused = cli("users", "list", "--database-url", "postgresql://app:secret@127.0.0.1:9/trainer")
    assert refused.returncode == 2 and "cannot connect to PostgreSQL" in refused.stderr
    assert "secret" not in refused.stderr + refused.stdout and "Traceback" not in refused.stderr


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_store_and_checkpoints_share_one_database(database_url):
    store = open_store(database_url)
    store.db.checkpointer()
    with store.db.connect() as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"users", "sessions", "scores", "comments", "assignments", "logins", "checkpoints"} <= tables
    password = database_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in repr(store.db) + repr(store.db.pools)


def test_instances_starting_together_migrate_once(database_url):
    """Several app processes opening a new database at the same moment: one set of migrations, no error."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: open_store(database_url), range(4)))
    with stores[0].db.connect() as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_passwords_are_scrypt_hashes_and_verify(tmp_path, database_url):
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert hash_password(PASSWORD) != stored  # salted
    with pytest.raises(StoreError, match="at least 8"):
        hash_password("short")
    store = make_store(tmp_path, url=database_url)
    assert check_login(store, "ravi", PASSWORD)
    assert not check_login(store, "ravi", "wrong password")
    assert not check_login(store, "nobody", PASSWORD)


def test_duplicate_users_and_bad_roles_are_refused(tmp_path, database_url):
    store = make_store(tmp_path, url=database_url)
    with pytest.raises(StoreError, match="already exists"):
        store.add_user("ravi", "rep", "east", hash_password(PASSWORD))
    with pytest.raises(StoreError, match="--role"):
        store.add_user("zed", "admin", "east", hash_password(PASSWORD))


def test_finishing_a_session_stores_its_score_and_reopening_clears_it(tmp_path, database_url):
    store = make_store(tmp_path, url=database_url)
    store.add_session("s1", "ravi", scenario_id="vp_budget_review", mode="training", pass_mark=70)
    card = Scorecard(overall=82.0, dimensions={"listening": 90.0}, pass_mark=70, passed=True)
    store.finish_session("s1", card, {"id": "s1", "turns": []})
    row = store.session("s1")
    assert row.ended and row.overall == 82.0 and row.passed and row.dimensions == {"listening": 90.0}
    assert store.scorecard("s1").overall == 82.0
    store.reopen_session("s1")
    assert not store.session("s1").ended and store.scorecard("s1") is None


def test_login_tokens_are_stored_hashed_and_survive_a_new_store_object(tmp_path, database_url):
    store = make_store(tmp_path, url=database_url)
    tokens = StoredTokens(store)
    tokens["tok-123"] = "ravi"
    assert StoredTokens(open_store(store.db.url)).get("tok-123") == "ravi"
    with store.db.connect() as conn:
        raw = conn.execute("SELECT token_hash FROM logins").fetchall()
    assert raw and all("tok-123" not in r[0] for r in raw)
    # Gradio's logout walks the keys and deletes the user's logins.
    for key in list(tokens.keys()):
        if tokens[key] == "ravi":
            del tokens[key]
    assert tokens.get("tok-123") is None


def test_users_command_adds_lists_and_never_prints_or_stores_the_password(tmp_path, database_url):
    url = database_url
    added = cli("users", "add", "ravi", "--role", "rep", "--team", "east", "--password-stdin",
                "--database-url", url, stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added rep ravi (team east)" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    listed = cli("users", "list", "--json", "--database-url", url)
    assert '"name": "ravi"' in listed.stdout and '"role": "rep"' in listed.stdout
    with open_store(url).db.connect() as conn:
        stored = " ".join(
            str(v) for r in conn.execute("SELECT * FROM users").fetchall() for v in dict(r).values()
        )
    assert PASSWORD not in stored and "scrypt$" in stored
    again = cli(
        "users", "add", "ravi", "--role", "rep", "--password-stdin", "--database-url", url, stdin="x" * 9
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = cli(
        "users", "add", "zed", "--role", "boss", "--password-stdin", "--database-url", url, stdin=PASSWORD
    )
    assert bad.returncode == 2 and "--role" in bad.stderr
    assert check_login(open_store(url), "ravi", PASSWORD)


def test_a_sign_in_is_its_token_only_expires_and_ends_with_users_passwd(tmp_path, database_url):
    store = make_store(tmp_path, url=database_url)
    tokens = StoredTokens(store, max_age=timedelta(days=7))
    tokens["tok-ravi"], tokens["tok-rosa"] = "ravi", "rosa"
    stored = store.token_hash("tok-ravi")
    assert tokens.get(f"#{stored}") is None and tokens.get(stored) is None  # a copied hash signs no one in
    with store.db.connect() as conn:
        conn.execute(
            "UPDATE logins SET created_at = '2000-01-01T00:00:00.000000+00:00' WHERE token_hash = ?",
            (store.token_hash("tok-rosa"),),
        )
    assert tokens.get("tok-rosa") is None  # older than 7 days
    assert StoredTokens(store, max_age=timedelta(days=10_000)).get("tok-rosa") == "rosa"
    passwd = ("users", "passwd", "ravi", "--password-stdin", "--database-url", store.db.url)
    changed = cli(*passwd, stdin="another password\n")
    assert changed.returncode == 0, changed.stderr
    assert tokens.get("tok-ravi") is None  # a new password signs out whoever knew the old one


def test_run_and_chat_keep_their_sessions_in_the_database_the_url_names(tmp_path, database_url):
    """`run --database-url` keeps the played session, ended and scored, in the user's history; `chat`
    saves and resumes through the same URL. Both refuse an unknown --user or an unreachable server."""
    store = make_store(tmp_path, url=database_url)
    lines = tmp_path / "lines.txt"
    lines.write_text("What's driving the push on supplier costs?\nWhat happens if you miss it?\n")
    played = cli("run", "--scenario", "vp_budget_review", "--trainee", str(lines), "--json",
                 "--database-url", database_url, "--user", "ravi")  # fmt: skip
    assert played.returncode == 0, played.stderr
    kept = store.sessions_of(["ravi"])
    assert len(kept) == 1 and kept[0].ended and kept[0].overall is not None
    assert store.transcript(kept[0].id)["turns"][1]["text"] == "What's driving the push on supplier costs?"
    unknown = cli("run", "--scenario", "vp_budget_review", "--trainee", str(lines),
                  "--database-url", database_url, "--user", "nobody")  # fmt: skip
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr

    first = cli("chat", "--seed", "3", "--database-url", database_url, stdin="What matters most to you?\n")
    assert first.returncode == 0, first.stderr
    session_id = first.stdout.split("trainer chat --resume ")[1].split()[0]
    second = cli("chat", "--resume", session_id, "--database-url", database_url, stdin="Why now?\n")
    assert second.returncode == 0, second.stderr
    assert [r.id for r in store.unfinished_sessions("you")] == [session_id]
    down = cli("chat", "--database-url", "postgresql://u:pw@127.0.0.1:9/x", stdin="Hello\n")
    assert down.returncode == 2 and "cannot connect" in down.stderr and "Traceback" not in down.stderr
