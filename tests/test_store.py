"""The store: migrations, users with hashed passwords, sessions and scores, and `trainer users`."""

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


def test_migrations_run_once_and_a_reopened_store_keeps_its_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
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


def test_unknown_or_unsupported_urls_are_refused_with_a_message():
    with pytest.raises(StoreError, match="unknown database URL"):
        open_database("mysql://x")
    with pytest.raises(StoreError, match="PostgreSQL is planned") as exc:
        open_database("postgresql://app:secret@db/trainer")
    assert "secret" not in str(exc.value)


def test_passwords_are_scrypt_hashes_and_verify(tmp_path):
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert hash_password(PASSWORD) != stored  # salted
    with pytest.raises(StoreError, match="at least 8"):
        hash_password("short")
    store = make_store(tmp_path)
    assert check_login(store, "ravi", PASSWORD)
    assert not check_login(store, "ravi", "wrong password")
    assert not check_login(store, "nobody", PASSWORD)


def test_duplicate_users_and_bad_roles_are_refused(tmp_path):
    store = make_store(tmp_path)
    with pytest.raises(StoreError, match="already exists"):
        store.add_user("ravi", "rep", "east", hash_password(PASSWORD))
    with pytest.raises(StoreError, match="--role"):
        store.add_user("zed", "admin", "east", hash_password(PASSWORD))


def test_finishing_a_session_stores_its_score_and_reopening_clears_it(tmp_path):
    store = make_store(tmp_path)
    store.add_session("s1", "ravi", scenario_id="vp_budget_review", mode="training", pass_mark=70)
    card = Scorecard(overall=82.0, dimensions={"listening": 90.0}, pass_mark=70, passed=True)
    store.finish_session("s1", card, {"id": "s1", "turns": []})
    row = store.session("s1")
    assert row.ended and row.overall == 82.0 and row.passed and row.dimensions == {"listening": 90.0}
    assert store.scorecard("s1").overall == 82.0
    store.reopen_session("s1")
    assert not store.session("s1").ended and store.scorecard("s1") is None


def test_login_tokens_are_stored_hashed_and_survive_a_new_store_object(tmp_path):
    store = make_store(tmp_path)
    tokens = StoredTokens(store)
    tokens["tok-123"] = "ravi"
    assert StoredTokens(open_store(store.db.url)).get("tok-123") == "ravi"
    raw = sqlite3.connect(store.db.sqlite_path).execute("SELECT token_hash FROM logins").fetchall()
    assert raw and all("tok-123" not in r[0] for r in raw)
    # Gradio's logout walks the keys and deletes the user's logins.
    for key in list(tokens.keys()):
        if tokens[key] == "ravi":
            del tokens[key]
    assert tokens.get("tok-123") is None


def test_users_command_adds_lists_and_never_prints_or_stores_the_password(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    added = cli("users", "add", "ravi", "--role", "rep", "--team", "east", "--password-stdin",
                "--database-url", url, stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added rep ravi (team east)" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    listed = cli("users", "list", "--json", "--database-url", url)
    assert '"name": "ravi"' in listed.stdout and '"role": "rep"' in listed.stdout
    assert PASSWORD.encode() not in (tmp_path / "cli.db").read_bytes()
    again = cli(
        "users", "add", "ravi", "--role", "rep", "--password-stdin", "--database-url", url, stdin="x" * 9
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = cli(
        "users", "add", "zed", "--role", "boss", "--password-stdin", "--database-url", url, stdin=PASSWORD
    )
    assert bad.returncode == 2 and "--role" in bad.stderr
    assert check_login(open_store(url), "ravi", PASSWORD)


def test_a_sign_in_is_its_token_only_expires_and_ends_with_users_passwd(tmp_path):
    store = make_store(tmp_path)
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
