"""The Gradio handlers called as plain functions: streaming replies, friendly model errors, sign-in rules."""

from __future__ import annotations

import time
from itertools import pairwise

import gradio as gr
import pytest

from tests.app_fixtures import make_world
from tests.conftest import script
from trainer.roleplay.voice import Utterance, VoiceRequest, offline_voice
from trainer.team.store import open_store
from trainer.web.server import Web
from trainer.web.views import esc


def word_by_word(pause: float):
    """A model-like voice: the authored line, sent to the listener one word at a time."""

    def voice(req: VoiceRequest) -> Utterance:
        said = offline_voice(req)
        if req.on_token is None:
            return said
        for n, word in enumerate(said.text.split(" ")):
            req.on_token(word if n == 0 else " " + word)
            time.sleep(pause)
        return Utterance(said.text, said.used, streamed=True)

    return voice


def request(name: str | None) -> gr.Request:
    return gr.Request(username=name)


def key_of(update: dict) -> str:
    return next(value for label, value in update["choices"] if value == "s:vp_budget_review")


def test_a_reply_streams_in_pieces_then_the_panels_show_chips_and_mood(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    ravi = request("ravi")
    started = web.start("s:vp_budget_review", "Training", ravi)
    session_id = started[0]
    steps = list(web.send(script("vp_budget_review", "discovery")[0], session_id, "Training", ravi))
    assert steps[0][1] == ""  # the box clears as soon as the turn is sent
    replies = [step[0][-1]["content"] for step in steps]
    growing = [r for r in replies if r != "…"]
    assert len(set(growing)) >= 3  # several partial replies before the whole one
    assert all(b.startswith(a) for a, b in pairwise(growing))
    final_chat, message, mood, card, rewind, *_ = steps[-1]
    assert "chip-customer" in final_chat[-2]["content"]
    assert "Mood" in mood and card == ""
    assert [value for _, value in rewind["choices"]] == [0]
    assert "value" not in message  # what the rep typed meanwhile stays in the box


@pytest.mark.parametrize("pause", [0.03, 0.0])
def test_model_tokens_show_in_batches_and_a_reply_that_comes_at_once_shows_once(tmp_path, catalog, pause):
    web = Web(make_world(tmp_path, catalog, voice=word_by_word(pause)).app, local=False)
    ravi = request("ravi")
    session_id = web.start("s:vp_budget_review", "Training", ravi)[0]
    steps = list(web.send(script("vp_budget_review", "discovery")[0], session_id, "Training", ravi))
    replies = [step[0][-1]["content"] for step in steps]
    words = len(replies[-1].split(" "))
    assert replies[0] == "…" and words > 5
    partial = replies[1:-1]
    assert all(b.startswith(a) for a, b in pairwise([*partial, replies[-1]]))
    if pause:  # a trickle: the reply grows on screen, a few words per update, not one update per word
        assert 2 <= len(partial) < words
    else:  # all at once: straight to the final view (one update, not a partial then the same again)
        assert partial == []


def test_a_model_failure_shows_in_the_chat_and_the_same_text_can_be_resent(tmp_path, catalog):
    calls = {"n": 0}

    def flaky(req):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("model server unreachable")
        return offline_voice(req)

    web = Web(make_world(tmp_path, catalog, voice=flaky).app, local=False)
    ravi = request("ravi")
    session_id = web.start("s:vp_budget_review", "Training", ravi)[0]
    line = script("vp_budget_review", "discovery")[0]
    *_, (chat, message, *_) = web.send(line, session_id, "Training", ravi)
    assert "could not answer" in chat[-1]["content"] and "model server unreachable" in chat[-1]["content"]
    assert message == line  # still in the box: press Send again
    *_, (resent, *_) = web.send(message, session_id, "Training", ravi)
    assert [m["role"] for m in resent] == ["assistant", "user", "assistant"]
    assert resent[1]["content"].startswith(esc(line))


def test_the_persona_ending_the_meeting_shows_the_scorecard_and_downloads(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    ravi = request("ravi")
    session_id = web.start("s:vp_budget_review", "Training", ravi)[0]
    for line in script("vp_budget_review", "pitch") * 3:
        *_, (_, message, _, card, _, files, md, js) = web.send(line, session_id, "Training", ravi)
        if card:
            break
    assert "Not yet" in card and "Pass mark" in card
    assert message["interactive"] is False
    assert files["visible"] is True and md["value"].endswith(".md") and js["value"].endswith(".json")
    with pytest.raises(gr.Error, match="has ended"):  # refused before any output: the scorecard stays
        next(web.send("One more question?", session_id, "Training", ravi))


def test_without_sign_in_only_the_local_no_users_mode_gets_a_user(tmp_path, catalog):
    world = make_world(tmp_path, catalog)
    with pytest.raises(gr.Error, match="Please sign in"):
        Web(world.app, local=True).user(request(None))  # users exist: no anonymous access
    with pytest.raises(gr.Error, match="Please sign in"):
        Web(world.app, local=False).user(request(None))
    with pytest.raises(gr.Error, match="Please sign in"):
        Web(world.app, local=True).user(request("you"))  # the local practice name is no account
    assert Web(world.app, local=False).user(request("maya")).is_manager
    with pytest.raises(gr.Error, match="no longer exists"):
        Web(world.app, local=False).user(request("ghost"))
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    world.app.store = empty
    assert Web(world.app, local=True).user(request(None)).name == "you"


def test_page_load_shows_manager_tabs_only_to_managers(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    header, scenarios, card, team_tab, assign_tab, reps, _ = web.on_load(request("maya"))
    assert team_tab["visible"] and assign_tab["visible"] and reps["choices"] == ["ravi", "rosa"]
    assert "maya · manager · team east" in header
    header, scenarios, card, team_tab, assign_tab, reps, _ = web.on_load(request("ravi"))
    assert not team_tab["visible"] and not assign_tab["visible"] and reps["choices"] == []
    assert key_of(scenarios) == "s:vp_budget_review" and "Setting" in card


def test_a_call_export_with_names_asks_for_the_rep_in_the_forms_words_then_scores(tmp_path, catalog):
    web = Web(make_world(tmp_path, catalog).app, local=False)
    ravi = request("ravi")
    named = "Alex Kim: What would a good outcome look like for you?\nDana Lee: Savings, mostly.\n"
    with pytest.raises(gr.Error, match="say which one is the rep in “The rep's name in the transcript”"):
        web.upload(None, named, "", ravi)
    card = web.upload(None, named, "Alex Kim", ravi)
    assert "Customer focus" in card and "What would a good outcome" in card
