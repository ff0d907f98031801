"""The hardening issue, item by item, against a real app on 127.0.0.1 where the item is about the app.

A copy of the database signs no one in; sign-ins expire and end with a password change; password guessing
is throttled without running the slow hash; oversized input is refused with one clear line; grading is
linear in the transcript; downloads are owner-only and do not pile up.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from gradio_client.exceptions import AppError

import trainer.grader.assess as assess
import trainer.web.signin as signin
from tests.app_fixtures import PASSWORD, make_store
from tests.conftest import cli, script
from tests.test_app_http import client, free_port
from trainer.grader.assess import assess_transcript, assess_turn
from trainer.grader.transcripts import MAX_TRANSCRIPT_BYTES, MAX_TURNS, TranscriptError, parse_transcripts
from trainer.paths import data_dir
from trainer.team.database import StoreError
from trainer.team.logins import session_max_age
from trainer.team.passwords import hash_password
from trainer.team.rep_actions import MAX_MESSAGE_CHARS
from trainer.team.store import open_store
from trainer.team.throttle import PER_NAME
from trainer.web.server import create, launch


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def server(tmp_path_factory, catalog):
    store = make_store(tmp_path_factory.mktemp("security"))
    demo, url = launch(catalog, store, store.db.checkpointer(), port=free_port())
    yield url, store, demo
    demo.close()


def sign_in(url: str, name: str, password: str = PASSWORD, address: str = "127.0.0.1") -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as http:
        return http.post(url + "login", data={"username": name, "password": password})


def token_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return next(v for k, v in response.cookies.items() if k.startswith("access-token-unsecure-"))


def config_status(url: str, demo, cookie: str) -> int:
    """What the app answers a request carrying this value as its sign-in cookie."""
    headers = {"Cookie": f"access-token-unsecure-{demo.server_app.cookie_id}={cookie}"}
    return httpx.get(url + "config", headers=headers).status_code


def login_rows(store, name: str) -> list[tuple[str, str]]:
    with store.db.connect() as conn:
        rows = conn.execute("SELECT token_hash, created_at FROM logins WHERE username = ?", (name,))
        return [(r[0], r[1]) for r in rows]


# ---------------------------------------------------------------- 1. a copy of the database


def test_a_stored_token_hash_is_no_sign_in(server):
    url, store, demo = server
    token = token_of(sign_in(url, "rosa"))
    assert config_status(url, demo, token) == 200  # the token the browser holds works
    stored = store.token_hash(token)
    assert stored in {h for h, _ in login_rows(store, "rosa")}
    for presented in (f"#{stored}", stored):  # what a copy of the database gives away
        assert config_status(url, demo, presented) == 401, presented


def test_the_database_and_its_folder_are_owner_only(tmp_path, monkeypatch):
    old = os.umask(0o022)  # the usual umask, which made trainer.db 0644
    try:
        store = open_store(f"sqlite:///{tmp_path / 'fresh' / 'trainer.db'}")
        saver = store.db.checkpointer()  # an open connection keeps the -wal and -shm files
        store.add_user("ravi", "rep", "east", hash_password(PASSWORD))
        folder = tmp_path / "fresh"
        assert mode(folder) == 0o700
        for name in ("trainer.db", "trainer.db-wal", "trainer.db-shm"):
            assert (folder / name).exists() and mode(folder / name) == 0o600, name
        saver.conn.close()
        loose = tmp_path / "old.db"  # left 0644 by an earlier version: narrowed on open
        loose.touch(mode=0o644)
        open_store(f"sqlite:///{loose}")
        assert mode(loose) == 0o600
        monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data-home"))
        assert mode(data_dir()) == 0o700
    finally:
        os.umask(old)


# ---------------------------------------------------------------- 2. sign-ins end


def test_a_sign_in_expires_after_its_days(server):
    url, store, demo = server
    token = token_of(sign_in(url, "maya"))
    stored = store.token_hash(token)

    def backdate(days: float) -> None:
        when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
        with store.db.connect() as conn:
            conn.execute("UPDATE logins SET created_at = ? WHERE token_hash = ?", (when, stored))

    backdate(6.9)
    assert config_status(url, demo, token) == 200
    backdate(7.1)  # past the default of 7 days
    assert config_status(url, demo, token) == 401
    token_of(sign_in(url, "maya"))  # a new sign-in clears expired ones from the table
    assert stored not in {h for h, _ in login_rows(store, "maya")}


def test_the_sign_in_lifetime_comes_from_the_environment(monkeypatch, tmp_path, catalog):
    monkeypatch.setenv("TRAINER_SESSION_DAYS", "0.5")
    assert session_max_age() == timedelta(hours=12)
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("TRAINER_SESSION_DAYS", bad)
        with pytest.raises(StoreError, match="TRAINER_SESSION_DAYS"):
            session_max_age()
    store = make_store(tmp_path)
    with pytest.raises(StoreError, match="TRAINER_SESSION_DAYS"):  # refused before anything listens
        launch(catalog, store, store.db.checkpointer(), port=free_port())


def test_a_new_password_ends_every_sign_in_of_that_user(server):
    url, store, demo = server
    ravi = [token_of(sign_in(url, "ravi")) for _ in range(2)]  # two browsers
    omar = token_of(sign_in(url, "omar"))
    store.set_password("ravi", hash_password("a brand new password"))  # `trainer users passwd ravi`
    assert [config_status(url, demo, t) for t in ravi] == [401, 401]
    assert login_rows(store, "ravi") == []
    assert config_status(url, demo, omar) == 200  # nobody else is signed out
    store.set_password("ravi", hash_password(PASSWORD))


# ---------------------------------------------------------------- 3. password guessing


def test_failed_sign_ins_are_throttled_without_running_the_password_hash(tmp_path, catalog, monkeypatch):
    checks: list[bool] = []

    def counted(store, name, password):
        try:
            asyncio.get_running_loop()
            checks.append(False)  # on the event loop: every signed-in user would wait for it
        except RuntimeError:
            checks.append(True)  # in a worker thread
        return check_login(store, name, password)

    check_login = signin.check_login
    monkeypatch.setattr(signin, "check_login", counted)
    store = make_store(tmp_path)
    demo, url = launch(catalog, store, store.db.checkpointer(), port=free_port())
    try:
        for _ in range(PER_NAME):
            assert sign_in(url, "ravi", "wrong password").status_code == 400
        assert checks == [True] * PER_NAME
        refused = sign_in(url, "ravi")  # even the right password, now
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) > 0
        assert len(checks) == PER_NAME  # refused without hashing
        assert sign_in(url, "ravi", address="127.0.0.2").status_code == 429  # the name waits everywhere
        assert sign_in(url, "rosa", address="127.0.0.2").status_code == 200  # others sign in as usual
        assert sign_in(url, "maya").status_code == 200  # also from the address that guessed (under its limit)
    finally:
        demo.close()


def test_an_office_signs_in_at_once_and_parallel_guesses_still_hit_the_limit(tmp_path, catalog, monkeypatch):
    """Thirty reps behind one address sign in in the same instant: all get in (only failures count).
    Twenty guesses at one name sent in parallel: tries take turns, so only PER_NAME of them are hashed."""
    from concurrent.futures import ThreadPoolExecutor

    hashed: list[str] = []
    check_login = signin.check_login

    def counted(store, name, password):
        hashed.append(name)
        return check_login(store, name, password)

    monkeypatch.setattr(signin, "check_login", counted)
    office = [(f"rep{n}", "rep", "east") for n in range(30)]
    store = make_store(tmp_path, people=[("maya", "manager", "east"), *office])
    demo, url = launch(catalog, store, store.db.checkpointer(), port=free_port())
    try:
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(lambda person: sign_in(url, person[0]).status_code, office))
        assert statuses == [200] * 30
        hashed.clear()
        with ThreadPoolExecutor(20) as pool:
            guesses = list(pool.map(lambda _: sign_in(url, "maya", "wrong guess").status_code, range(20)))
        assert sorted(guesses) == [400] * PER_NAME + [429] * (20 - PER_NAME)
        assert len(hashed) == PER_NAME
    finally:
        demo.close()


# ---------------------------------------------------------------- 4. sizes and linear grading


def test_a_message_over_the_limit_is_refused_and_not_stored(server):
    url, _, _ = server
    rosa = client(url, "rosa")
    rosa.predict(api_name="/load")
    rosa.predict("s:vp_budget_review", "Training", api_name="/start")
    with pytest.raises(AppError, match=f"the limit is {MAX_MESSAGE_CHARS:,}"):
        rosa.predict("What worries you? " * 300, "Training", api_name="/send")
    with pytest.raises(AppError, match="Say something first"):  # nothing was played or stored
        rosa.predict("Training", api_name="/end")


def test_a_transcript_over_1_mb_is_refused_in_the_app(server, tmp_path):
    url, store, _ = server
    wen = client(url, "wen")
    wen.predict(api_name="/load")
    big = "Rep: What is on your mind this quarter?\nCustomer: Budgets, mostly.\n" * 30_000  # 2 MB
    with pytest.raises(AppError, match=r"pasted transcript: 2,\d{3},\d{3} bytes is over the limit"):
        wen.predict(None, big, "", api_name="/upload")
    assert store.sessions_of(["wen"]) == []


def test_trainer_grade_refuses_a_big_transcript_with_exit_2(tmp_path):
    path = tmp_path / "call.txt"
    path.write_text("Rep: What is on your mind?\nCustomer: Budgets.\n" * 30_000, encoding="utf-8")
    for args, stdin in (((str(path),), None), (("-",), path.read_text(encoding="utf-8"))):
        result = cli("grade", *args, stdin=stdin)
        assert result.returncode == 2
        assert "is over the limit of 1,000,000 bytes" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_transcript_with_too_many_turns_is_refused():
    text = "Rep: Why?\nCustomer: Because.\n" * (MAX_TURNS // 2 + 1)
    assert len(text.encode()) < MAX_TRANSCRIPT_BYTES
    with pytest.raises(TranscriptError, match=f"turns is over the limit of {MAX_TURNS:,}"):
        parse_transcripts(text, "call.txt")


def test_grading_a_transcript_is_linear_and_labels_as_turn_by_turn(monkeypatch):
    lines = script("vp_budget_review", "discovery")
    persona = ["Finance wants twelve percent out by December.", "I want a leaner department that delivers."]
    text = "".join(f"Customer: {persona[i % 2]} ({i})\nRep: {line}\n" for i, line in enumerate(lines * 40))
    (transcript,) = parse_transcripts(text, "call.txt")
    turns = transcript.turns
    words = assess.content_words
    calls = []
    monkeypatch.setattr(assess, "content_words", lambda t: calls.append(t) or words(t))
    graded = assess_transcript(turns)
    assert len(calls) <= 2 * len(turns)  # each turn's words read once, not once per later rep turn
    monkeypatch.undo()
    one_by_one = [assess_turn(t.text, i, turns[:i]) for i, t in enumerate(turns) if t.speaker == "trainee"]
    assert graded == one_by_one


# ---------------------------------------------------------------- 5. downloads


def test_downloads_are_owner_only_and_do_not_pile_up(server, catalog, tmp_path):
    url, store, _ = server
    omar = client(url, "omar")
    omar.predict(api_name="/load")
    omar.predict("s:cio_poc_checkin", "Training", api_name="/start")
    omar.predict(script("cio_poc_checkin", "discovery")[0], "Training", api_name="/send")
    ended = omar.predict("Training", api_name="/end")
    served = [v["value"]["path"] for v in ended if isinstance(v, dict) and isinstance(v.get("value"), dict)]
    assert len(served) == 2 and all(mode(p) == 0o600 for p in served)  # Gradio's copies keep our mode

    web, _ = create(catalog, store, store.db.checkpointer())
    assert mode(web.files) == 0o700
    first = web.file("transcript-a.md", "Rep: hi")
    assert mode(first) == 0o600 and mode(os.path.dirname(first)) == 0o700
    old = time.time() - 3600
    os.utime(os.path.dirname(first), (old, old))
    second = web.file("transcript-b.md", "Rep: hello")  # the next download clears the old ones
    assert not os.path.exists(first) and os.path.exists(second)
