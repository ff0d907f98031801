"""An unfinished session survives a reload, a restart, or a move to another app instance on the same
database: the rep lists their unfinished sessions and continues one, and only the owner may.

Tests taking `database_url` run on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.app_fixtures import PASSWORD, make_store, make_world
from tests.conftest import script
from tests.test_serve import serve, stop
from trainer.roleplay.session import SessionError, Sessions
from trainer.team.access import AccessDenied
from trainer.team.app import TrainerApp
from trainer.team.store import open_store
from trainer.web.server import Web
from trainer.web.views import chat_messages, mood_html

LINES = script("vp_budget_review", "discovery")[:3]
CALL = "Rep: What matters most to you this quarter?\nCustomer: Cutting costs.\nRep: Why now?"


def replayed(catalog, seed: int, lines: list[str]):
    """The same turns played in one go: the state a session continued across processes must reach."""
    sessions = Sessions(catalog)
    view = sessions.start("vp_budget_review", seed=seed)
    for line in lines:
        view = sessions.send(view.id, line)
    return view


# ---------------------------------------------------------------- use cases


def test_the_unfinished_list_has_only_the_reps_own_live_practice_sessions(tmp_path, catalog, database_url):
    world = make_world(tmp_path, catalog, url=database_url)
    app, ravi, rosa = world.app, world["ravi"], world["rosa"]
    live = app.start(ravi, "s:vp_budget_review", seed=1)
    ended = app.start(ravi, "s:vp_budget_review", seed=2)
    app.send(ravi, ended.id, LINES[0])
    app.end(ravi, ended.id)
    app.upload(ravi, CALL, "call.txt")
    app.start(rosa, "s:vp_budget_review", seed=3)
    later = app.start(ravi, "s:cio_poc_checkin", seed=4)
    app.send(ravi, live.id, LINES[0])  # played after `later` was started: it comes first

    items = app.unfinished(ravi)
    assert [item.row.id for item in items] == [live.id, later.id]
    assert "Twenty minutes before the budget review · training · 1 turn · last played" in items[0].label
    assert items[1].rep_turns == 0
    assert [item.row.username for item in app.unfinished(rosa)] == ["rosa"]
    assert app.unfinished(world["maya"]) == []  # a manager's list is their own, not the team's
    app.rewind(ravi, ended.id, 0)  # reopened by a rewind: unfinished again
    assert ended.id in [item.row.id for item in app.unfinished(ravi)]


def test_only_the_owner_continues_a_session_and_only_while_it_can_take_a_turn(
    tmp_path, catalog, database_url
):
    world = make_world(tmp_path, catalog, url=database_url)
    app, ravi = world.app, world["ravi"]
    live = app.start(ravi, "s:vp_budget_review", seed=1)
    app.send(ravi, live.id, LINES[0])
    for other in ("rosa", "maya", "omar"):  # another rep, their manager (reads, never speaks), another team
        with pytest.raises(AccessDenied, match=r"No such session, or it is not yours to open\."):
            app.resume(world[other], live.id)
    uploaded, _ = app.upload(ravi, CALL, "call.txt")
    with pytest.raises(AccessDenied, match="No such session"):
        app.resume(ravi, uploaded.id)
    with pytest.raises(AccessDenied, match="No such session"):
        app.resume(ravi, "does-not-exist")
    app.end(ravi, live.id)
    with pytest.raises(SessionError, match="has ended"):
        app.resume(ravi, live.id)


def test_another_app_instance_on_the_same_database_continues_the_session(tmp_path, catalog, database_url):
    world = make_world(tmp_path, catalog, url=database_url)
    ravi = world["ravi"]
    view = world.app.start(ravi, "s:vp_budget_review", seed=5)
    for line in LINES[:2]:
        view = world.app.send(ravi, view.id, line)
    store = open_store(database_url)  # a second instance: its own connections
    other = TrainerApp(catalog, store, Sessions(catalog, checkpointer=store.db.checkpointer()))
    assert [item.row.id for item in other.unfinished(ravi)] == [view.id]
    resumed = other.resume(ravi, view.id).view
    assert resumed is not None and resumed.turns == view.turns and resumed.state == view.state
    after = other.send(ravi, view.id, LINES[2])
    reference = replayed(catalog, 5, LINES)
    assert after.turns == reference.turns and after.state == reference.state


# ---------------------------------------------------------------- the web handlers


def test_the_practise_tab_offers_the_unfinished_session_and_restores_it(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    ravi, rosa = gr.Request(username="ravi"), gr.Request(username="rosa")
    box, pick = web.unfinished(ravi)
    assert box["visible"] is False and pick["choices"] == []
    assert web.resume(None, ravi) == gr.skip()  # the page load with nothing to continue changes nothing

    session_id = web.start("s:vp_budget_review", "Training", ravi)[0]
    list(web.send(LINES[0], session_id, "Training", ravi))
    box, pick = web.unfinished(ravi)  # the page reloaded: the session id in the old page's state is gone
    assert box["visible"] is True
    assert [value for _, value in pick["choices"]] == [session_id]
    assert pick["value"] == session_id  # the only one: the page load continues it
    assert "Twenty minutes before the budget review" in pick["choices"][0][0]

    restored = web.resume(session_id, ravi)
    state, chat, mood, scorecard, rewind, message, files, send, mode, scenario, card, note, pick = restored
    view = web.trainer.view(web.user(ravi), session_id)
    assert state == session_id and chat == chat_messages(view, True) and len(chat) == 3
    assert mood == mood_html(view, True) and "Mood" in mood and scorecard == ""
    assert [value for _, value in rewind["choices"]] == [0]
    assert message["interactive"] is True and send["interactive"] is True and files["visible"] is False
    assert mode == "Training" and scenario["value"] == "s:vp_budget_review"
    assert "Renata Okafor" in card
    assert "Continuing your unfinished session" in note and "Twenty minutes" in note
    assert pick["value"] == session_id
    *_, (chat, *_) = web.send(LINES[1], state, "Training", ravi)  # Send continues it
    assert len(chat) == 5

    with pytest.raises(gr.Error, match=r"No such session, or it is not yours to open\."):
        web.resume(session_id, rosa)
    assessment = web.start("s:vp_budget_review", "Assessment", ravi)[0]
    box, pick = web.unfinished(ravi)
    assert len(pick["choices"]) == 2 and pick["value"] is None  # several: the rep picks
    restored = web.resume(assessment, ravi)
    assert restored[8] == "Assessment" and "Assessment mode" in restored[2]


def test_my_sessions_continues_an_unfinished_session_on_the_practise_tab(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    ravi, maya = gr.Request(username="ravi"), gr.Request(username="maya")
    session_id = web.start("s:vp_budget_review", "Training", ravi)[0]
    list(web.send(LINES[0], session_id, "Training", ravi))

    opened = web.open_mine(session_id, ravi)
    assert "Continue on the Practise tab" in opened[0] and opened[-1]["visible"] is True
    *practise, tabs = web.continue_session(session_id, ravi)
    assert isinstance(tabs, gr.Tabs) and tabs.selected == "practise"
    assert practise[0] == session_id and len(practise[1]) == 3
    assert web.open_mine(session_id, maya)[-1]["visible"] is False  # a manager reads it, never plays it
    assert "still in progress" in web.open_session(session_id, maya)[0]  # as the Team tab's review shows it
    with pytest.raises(gr.Error, match="No such session"):
        web.continue_session(session_id, maya)

    web.end(session_id, "Training", ravi)
    assert web.open_mine(session_id, ravi)[-1]["visible"] is False  # ended: nothing to continue


# ---------------------------------------------------------------- over HTTP, across a killed process


def url_of(line: str) -> str:
    assert "Discovery Trainer is running at http://127.0.0.1:" in line, line
    return line.split(" at ")[1].split()[0]


def signed_in(url: str, name: str) -> Client:
    client = Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)
    client.predict(api_name="/load")  # as the page does
    return client


def test_a_session_continues_after_the_app_process_is_killed_and_started_again(
    tmp_path, catalog, database_url
):
    data = tmp_path / "data"
    data.mkdir()
    db_url = database_url if database_url.startswith("postgresql") else None  # else the data dir's file
    store = make_store(data, url=db_url)  # the database `trainer serve` opens
    first, line = serve(data, db_url)
    try:
        ravi = signed_in(url_of(line), "ravi")
        ravi.predict("s:vp_budget_review", "Training", api_name="/start")
        for text in LINES[:2]:
            ravi.predict(text, "Training", api_name="/send")
    finally:
        first.kill()  # SIGKILL: no shutdown, nothing flushed on the way out
        first.wait(timeout=20)
    session_id = store.sessions_of(["ravi"])[-1].id
    before = Sessions(catalog, checkpointer=store.db.checkpointer()).view(session_id)
    assert [t.speaker for t in before.turns].count("trainee") == 2

    signed_in_before = dict(ravi.cookies)
    second, line = serve(data, db_url)
    try:
        url = url_of(line)
        kept = Client(url, verbose=False, download_files=False, httpx_kwargs={"cookies": signed_in_before})
        assert "ravi" in str(kept.predict(api_name="/load")[0])  # the sign-in outlived the process
        ravi = signed_in(url, "ravi")
        pick = ravi.predict(api_name="/unfinished")  # the Continue picker (the API leaves out layout)
        assert [value for _, value in pick["choices"]] == [session_id]
        assert (
            "Twenty minutes before the budget review · training · 2 turns · last played"
            in pick["choices"][0][0]
        )
        resumed = ravi.predict(session_id, api_name="/resume")
        chat, mood = resumed[0], resumed[1]
        assert len(chat) == len(before.turns) == 5
        assert mood == mood_html(before, True)  # the persona's mood as it was left
        final = ravi.predict(LINES[2], "Training", api_name="/send")
        assert len(final[0]) == 7

        rosa = signed_in(url, "rosa")
        with pytest.raises(AppError, match=r"No such session, or it is not yours to open\."):
            rosa.predict(session_id, api_name="/resume")
        with pytest.raises(AppError, match="Start a session first"):  # her page holds no session of his
            rosa.predict("Hello?", "Training", api_name="/send")
    finally:
        stop(second)

    after = Sessions(catalog, checkpointer=store.db.checkpointer()).view(session_id)
    assert after.turns[: len(before.turns)] == before.turns
    assert [t.text for t in after.turns if t.speaker == "trainee"] == LINES
    reference = replayed(catalog, before.seed, LINES)
    assert after.turns == reference.turns
    assert after.state == reference.state  # trust, patience and the layers opened carried over
    assert set(before.state.unlocked) <= set(after.state.unlocked)
    assert after.state != replayed(catalog, before.seed, LINES[2:]).state  # not a fresh start at turn 3
