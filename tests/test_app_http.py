"""Access through the running app's HTTP/API surface: sign-in enforced, and no one reads what is not theirs.

These tests talk to a real server with gradio_client and raw HTTP, as a curious rep with a script would.
"""

from __future__ import annotations

import socket

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.app_fixtures import PASSWORD, make_store
from tests.conftest import script
from trainer.team.access import needs_login
from trainer.team.database import StoreError
from trainer.team.passwords import hash_password
from trainer.team.store import open_store
from trainer.web.server import launch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("http")
    store = make_store(folder)
    demo, url = launch(catalog, store, store.db.checkpointer(), port=free_port())
    yield url, store
    demo.close()


def client(url: str, name: str) -> Client:
    return Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)


def play(c: Client, lines: list[str], key: str = "s:vp_budget_review") -> None:
    c.predict(api_name="/load")  # as the page does: fills the scenario picker for this user
    c.predict(key, "Training", api_name="/start")
    for line in lines:
        c.predict(line, "Training", api_name="/send")


def latest_session_id(store, name: str) -> str:
    return store.sessions_of([name])[-1].id


def test_without_signing_in_every_endpoint_is_refused(server):
    url, _ = server
    for path in ("config", "gradio_api/info", "gradio_api/queue/data?session_hash=x"):
        assert httpx.get(url + path).status_code == 401, path
    joined = httpx.post(url + "gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"})
    assert joined.status_code == 401
    page = httpx.get(url).text
    assert '"auth_required":true' in page.replace(" ", "") or "auth_required" in page
    assert httpx.post(url + "login", data={"username": "ravi", "password": "wrong"}).status_code == 400
    with pytest.raises(ValueError):
        client(url, "nobody")


def test_a_rep_plays_and_the_scorecard_comes_back_over_the_api(server):
    url, store = server
    ravi = client(url, "ravi")
    header = ravi.predict(api_name="/load")[0]
    assert "ravi · rep · team east" in header
    play(ravi, script("vp_budget_review", "discovery")[:2])
    result = ravi.predict("Training", api_name="/end")
    scorecard_html = result[3]
    assert "Pass mark 70" in scorecard_html and "Customer focus" in scorecard_html
    row = store.sessions_of(["ravi"])[-1]
    assert row.ended and row.overall is not None


def test_a_rep_cannot_fetch_another_reps_session_through_the_api(server):
    url, store = server
    play(client(url, "ravi"), script("vp_budget_review", "discovery")[:1])
    ravis = latest_session_id(store, "ravi")
    rosa = client(url, "rosa")
    rosa.predict(api_name="/load")
    for endpoint in ("/open_session", "/review_session"):
        with pytest.raises(AppError, match="No such session"):
            rosa.predict(ravis, api_name=endpoint)
    with pytest.raises(AppError, match="Only managers"):
        rosa.predict(api_name="/dashboard")
    with pytest.raises(AppError, match="Only managers"):
        rosa.predict(api_name="/export_csv")
    with pytest.raises(AppError, match="Only managers"):
        rosa.predict("cio_poc_checkin", [], True, "", 70, api_name="/assign")
    # her own history shows none of ravi's sessions
    history = rosa.predict(api_name="/history")
    assert ravis not in str(history)


def test_a_manager_sees_their_team_but_not_another_team(server):
    url, store = server
    play(client(url, "omar"), script("cio_poc_checkin", "discovery")[:1], key="s:cio_poc_checkin")
    omars = latest_session_id(store, "omar")
    play(client(url, "ravi"), script("vp_budget_review", "discovery")[:1])
    ravis = latest_session_id(store, "ravi")
    maya = client(url, "maya")
    maya.predict(api_name="/load")
    opened = maya.predict(ravis, api_name="/review_session")
    assert "ravi" in opened[2]  # the transcript names the rep
    with pytest.raises(AppError, match="No such session"):
        maya.predict(omars, api_name="/review_session")
    with pytest.raises(AppError, match="No such session"):
        maya.predict(omars, "Looks fine", api_name="/comment")
    assert store.comments(omars) == []
    board = maya.predict(api_name="/dashboard")
    assert "ravi" in board[1] + board[2] + board[4] and "omar" not in "".join(map(str, board))
    # refused by the picker's own choices (only her team) and, behind it, by the team check
    with pytest.raises(AppError, match=r"Not in your team|not in the list of choices"):
        maya.predict("cio_poc_checkin", ["omar"], False, "", 70, api_name="/assign")
    assert store.team_assignments("west") == []
    # a manager reads a rep's session but cannot speak in it: their own state has no session to send to
    with pytest.raises(AppError, match="Start a session first"):
        maya.predict("Let me try", "Training", api_name="/send")


def test_a_comment_posted_by_the_manager_reaches_the_rep(server):
    url, store = server
    play(client(url, "rosa"), script("vp_budget_review", "discovery")[:1])
    rosas = latest_session_id(store, "rosa")
    client(url, "maya").predict(rosas, "Good opener. Follow up on the CFO next time.", api_name="/comment")
    seen = client(url, "rosa").predict(rosas, api_name="/open_session")
    assert "Follow up on the CFO" in seen[1] and "maya" in seen[1]


def test_logins_live_in_the_store_hashed(server):
    url, store = server
    client(url, "ravi").predict(api_name="/load")
    with store.db.connect() as conn:
        names = {r[0] for r in conn.execute("SELECT username FROM logins")}
    assert "ravi" in names


def test_local_mode_needs_no_login_until_users_exist_then_asks_without_a_restart(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'local.db'}")
    demo, url = launch(catalog, store, store.db.checkpointer(), port=free_port())
    try:
        assert httpx.get(url + "config").status_code == 200  # no login page while no accounts exist
        local = Client(url, verbose=False)
        assert "no sign-in" in local.predict(api_name="/load")[0]
        local.predict("s:vp_budget_review", "Training", api_name="/start")
        local.predict(script("vp_budget_review", "discovery")[0], "Training", api_name="/send")
        assert store.sessions_of(["you"])
        store.add_user("ravi", "rep", "east", hash_password(PASSWORD))  # `trainer users add`, app running
        with pytest.raises(httpx.HTTPStatusError, match="401"):
            local.predict(api_name="/history")  # the page already open is refused from now on
        assert httpx.get(url + "config").status_code == 401  # and every endpoint asks for a login
        assert "auth_required" in httpx.get(url).text
        ravi = client(url, "ravi")  # the same running server now takes the new account's password
        assert "ravi · rep · team east" in ravi.predict(api_name="/load")[0]
        assert not store.sessions_of(["ravi"])  # and the local practice sessions are not handed to ravi
    finally:
        demo.close()


def test_the_local_practice_name_cannot_become_an_account(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'names.db'}")
    with pytest.raises(StoreError, match="kept for local practice"):
        store.add_user("you", "manager", "east", hash_password(PASSWORD))


def test_listening_beyond_localhost_requires_users_first(tmp_path, catalog):
    assert needs_login("0.0.0.0", 0) and needs_login("127.0.0.1", 1) and not needs_login("127.0.0.1", 0)
    store = open_store(f"sqlite:///{tmp_path / 'exposed.db'}")
    with pytest.raises(StoreError, match="no users exist"):
        launch(catalog, store, store.db.checkpointer(), host="0.0.0.0", port=free_port())
