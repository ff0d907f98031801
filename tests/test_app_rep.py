"""Rep actions as plain functions: pick, play, chips, rewind, end, scorecard, history, downloads, uploads."""

from __future__ import annotations

import json

import pytest

from tests.app_fixtures import make_world
from tests.conftest import script
from trainer.grader.transcripts import TranscriptError, parse_transcripts
from trainer.roleplay.session import SessionError
from trainer.roleplay.voice import offline_voice
from trainer.team.access import AccessDenied
from trainer.web.charts import trend_svg
from trainer.web.views import chat_messages, esc, mood_html, persona_card_html, scorecard_html


@pytest.fixture
def world(tmp_path, catalog, database_url):
    """The app over a SQLite file, and again over a real PostgreSQL server."""
    return make_world(tmp_path, catalog, url=database_url)


def play(world, user, key, lines, mode="training"):
    view = world.app.start(user, key, mode, seed=1)
    for line in lines:
        if view.ended:
            break
        view = world.app.send(user, view.id, line)
    return view


def test_assigned_scenarios_come_first_with_due_date_and_pass_mark(world):
    world.store.add_assignment(
        "cio_poc_checkin", pass_mark=80, created_by="maya", assignee="ravi", due="2031-05-01"
    )
    world.store.add_assignment(
        "hallway_one_to_one", pass_mark=60, created_by="maya", team="east", due="2031-04-01"
    )
    world.store.add_assignment("vp_budget_review", pass_mark=90, created_by="wen", assignee="omar")
    options = world.app.scenario_options(world["ravi"])
    assigned = [o for o in options if o.assignment]
    assert [o.scenario_id for o in assigned] == ["hallway_one_to_one", "cio_poc_checkin"]  # soonest due first
    assert options[: len(assigned)] == assigned
    assert "due 2031-04-01" in assigned[0].label and "pass 60" in assigned[0].label
    assert "vp_budget_review" not in {o.scenario_id for o in assigned}  # omar's, not ravi's
    assert len(options) == len(assigned) + len(world.app.catalog.scenarios)


def test_persona_card_shows_only_what_the_rep_may_know(world, catalog):
    card = world.app.card("vp_budget_review")
    html = persona_card_html(card)
    persona = catalog.persona("cost_cutting_vp")
    scenario = catalog.scenario("vp_budget_review")
    assert persona.name in html and scenario.objectives[0].description in html
    assert "budget review" in html.lower()
    for layer in persona.hidden:
        assert layer.fact not in html
        assert all(line not in html for line in layer.reveal)
    assert persona.style not in html and "patience" not in html.lower()


def test_training_shows_a_chip_per_turn_and_the_mood_assessment_hides_both(world):
    ravi = world["ravi"]
    lines = script("vp_budget_review", "discovery")[:2]
    training = play(world, ravi, "s:vp_budget_review", lines)
    messages = chat_messages(training, training=True)
    rep_messages = [m for m in messages if m["role"] == "user"]
    assert len(rep_messages) == 2
    assert all("chip-customer" in m["content"] and "open question" in m["content"] for m in rep_messages)
    assert "Mood" in mood_html(training, training=True)
    pitched = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "pitch")[:1])
    assert "chip-pitch" in chat_messages(pitched, training=True)[1]["content"]
    exam = play(world, ravi, "s:vp_budget_review", lines, mode="assessment")
    assert not any("chip" in m["content"] for m in chat_messages(exam, training=False))
    assert "Mood" not in mood_html(exam, training=False) and "no live feedback" in mood_html(
        exam, training=False
    )


def test_a_finished_conversation_is_scored_against_the_assignments_pass_mark(world):
    ravi = world["ravi"]
    strict = world.store.add_assignment("vp_budget_review", pass_mark=99, created_by="maya", assignee="ravi")
    view = play(world, ravi, f"a:{strict.id}", script("vp_budget_review", "discovery"))
    assert view.ended
    row = world.store.session(view.id)
    card = world.store.scorecard(view.id)
    assert row.ended and row.assignment_id == strict.id
    assert card.pass_mark == 99 and card.passed is (card.overall >= 99)
    assert card.overall > 70  # a good conversation, just not good enough for a 99
    html = scorecard_html(card, "Renata Okafor")
    assert f"{card.overall:.0f}" in html and "Pass mark 99" in html
    assert "Customer focus" in html and "<q>" in html  # dimensions quote the turns behind them
    assert card.tips and all(esc(tip) in html for tip in card.tips)


def test_end_session_scores_the_path_so_far_and_then_the_session_is_closed(world):
    ravi = world["ravi"]
    view = play(world, ravi, "s:cio_poc_checkin", script("cio_poc_checkin", "discovery")[:2])
    assert not view.ended
    card = world.app.end(ravi, view.id)
    assert card.overall >= 0 and card.pass_mark == world.app.catalog.scenario("cio_poc_checkin").pass_mark
    assert world.store.session(view.id).ended
    assert world.app.end(ravi, view.id).overall == card.overall  # pressing End twice is harmless
    with pytest.raises(SessionError, match="ended"):
        world.app.send(ravi, view.id, "One more question?")


def test_end_before_saying_anything_is_refused(world):
    view = world.app.start(world["ravi"], "s:cio_poc_checkin")
    with pytest.raises(SessionError, match="Say something first"):
        world.app.end(world["ravi"], view.id)


def test_rewind_replays_from_an_earlier_turn_and_the_scorecard_follows_the_path_taken(world):
    ravi = world["ravi"]
    pitch = script("vp_budget_review", "pitch")[0]
    good = script("vp_budget_review", "discovery")
    view = play(world, ravi, "s:vp_budget_review", [good[0], pitch])
    points = world.app.rewind_points(ravi, view.id)
    assert [n for n, _ in points] == [0, 1] and points[1][1] == pitch
    view = world.app.rewind(ravi, view.id, 1)  # keep the first turn, replace the pitch
    assert [t.text for t in view.turns if t.speaker == "trainee"] == [good[0]]
    view = world.app.send(ravi, view.id, good[1])
    world.app.end(ravi, view.id)
    transcript = world.store.transcript(view.id)
    said = [t["text"] for t in transcript["turns"] if t["speaker"] == "trainee"]
    assert said == [good[0], good[1]] and pitch not in said
    assert all(t["focus"] != "pitch" for t in world.store.scorecard(view.id).turns)


def test_rewind_after_the_persona_ended_it_reopens_the_session_in_training(world):
    ravi = world["ravi"]
    view = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "pitch") * 3)
    assert view.ended and world.store.session(view.id).ended
    view = world.app.rewind(ravi, view.id, 0)
    assert not view.ended and not world.store.session(view.id).ended
    assert world.store.scorecard(view.id) is None
    assert (
        world.app.send(ravi, view.id, script("vp_budget_review", "discovery")[0]).turns[-1].speaker
        == "persona"
    )


def test_assessment_mode_cannot_rewind(world):
    view = play(
        world, world["ravi"], "s:vp_budget_review", script("vp_budget_review", "discovery")[:2], "assessment"
    )
    with pytest.raises(SessionError, match="training mode"):
        world.app.rewind(world["ravi"], view.id, 0)


def test_a_failed_model_call_leaves_the_turn_unplayed_and_it_can_be_resent(tmp_path, catalog):
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:  # the opening is authored; the first reply is the first voice call
            raise TimeoutError("model backend timed out")
        return offline_voice(request)

    world = make_world(tmp_path, catalog, voice=flaky)
    ravi = world["ravi"]
    view = world.app.start(ravi, "s:vp_budget_review", seed=1)
    line = script("vp_budget_review", "discovery")[0]
    with pytest.raises(TimeoutError):
        world.app.send(ravi, view.id, line)
    assert world.app.view(ravi, view.id).turns == view.turns
    again = world.app.send(ravi, view.id, line)
    assert [t.speaker for t in again.turns] == ["persona", "trainee", "persona"]


def test_history_lists_only_the_reps_own_sessions_with_scores_and_a_trend(world):
    ravi, rosa = world["ravi"], world["rosa"]
    first = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "pitch") * 3)
    second = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "discovery"))
    play(world, rosa, "s:vp_budget_review", script("vp_budget_review", "discovery")[:1])
    mine = world.app.my_sessions(ravi)
    assert [r.id for r in mine] == [second.id, first.id]  # newest first, rosa's not there
    assert mine[0].overall > mine[1].overall
    svg = trend_svg({"": [(r.started_at, r.overall) for r in mine[::-1]]}, pass_mark=70)
    assert svg.count("<circle") == 2 and "pass 70" in svg


def test_a_past_transcript_opens_and_downloads_as_markdown_and_interfaces_json(world):
    ravi = world["ravi"]
    view = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "discovery"))
    opened = world.app.open(ravi, view.id)
    assert opened.scorecard is not None and len(opened.transcript["turns"]) == len(view.turns)
    name, text = world.app.export(ravi, view.id, "json")
    assert name.endswith(".json")
    data = json.loads(text)
    assert set(data) == {"id", "scenario", "turns"} and data["scenario"] == "vp_budget_review"
    assert parse_transcripts(text, name)[0].turns == view.turns
    name, markdown = world.app.export(ravi, view.id, "md")
    assert name.endswith(".md") and "**Renata Okafor:**" in markdown and "**Rep:**" in markdown
    assert f"Overall **{opened.scorecard.overall:.0f}**" in markdown


def test_uploading_a_real_call_gives_a_scorecard_and_joins_the_history(world):
    ravi = world["ravi"]
    call = (
        "Customer: Thanks for coming in. We have about half an hour.\n"
        "Rep: Thanks for the time. What is taking most of your attention this quarter?\n"
        "Customer: Mostly the migration. It keeps slipping.\n"
        "Rep: What happens to your plans if it slips again?\n"
        "Customer: Then I have a hard conversation with the board.\n"
    )
    row, card = world.app.upload(ravi, call, "call.txt")
    assert card.overall > 50 and card.dimensions["customer_focus"] == 100
    assert world.app.my_sessions(ravi)[0].id == row.id
    assert world.app.open(ravi, row.id).transcript["turns"][1]["speaker"] == "trainee"
    as_json = json.dumps(
        {"turns": [{"speaker": "trainee", "text": "Our platform is the best, want a demo?"}]}
    )
    _, pitchy = world.app.upload(ravi, as_json, "call.json")
    assert pitchy.overall < card.overall
    with pytest.raises(TranscriptError, match="line 1: expected a speaker prefix"):
        world.app.upload(ravi, "hello there\nRep: hi", "notes.txt")
    with pytest.raises(SessionError, match="no rep turns"):
        world.app.upload(ravi, "Customer: hello", "one-sided.txt")
    named = "Alex Kim: What would a good outcome look like for you?\nDana Lee: Savings, mostly.\n"
    with pytest.raises(TranscriptError, match="say which one is the rep"):
        world.app.upload(ravi, named, "zoom.txt")
    row, card = world.app.upload(ravi, named, "zoom.txt", rep="Alex Kim")
    turns = world.app.open(ravi, row.id).transcript["turns"]
    assert [t["speaker"] for t in turns] == ["trainee", "persona"] and card.turns[0]["focus"] == "customer"


def test_a_rep_cannot_open_play_or_download_another_reps_session(world):
    ravi, rosa = world["ravi"], world["rosa"]
    view = play(world, ravi, "s:vp_budget_review", script("vp_budget_review", "discovery")[:2])
    for attempt in (
        lambda: world.app.open(rosa, view.id),
        lambda: world.app.send(rosa, view.id, "Tell me more?"),
        lambda: world.app.end(rosa, view.id),
        lambda: world.app.rewind(rosa, view.id, 0),
        lambda: world.app.export(rosa, view.id, "json"),
        lambda: world.app.view(rosa, view.id),
    ):
        with pytest.raises(AccessDenied, match="No such session"):
            attempt()
    with pytest.raises(AccessDenied, match="No such session"):
        world.app.open(rosa, "does-not-exist")
    with pytest.raises(AccessDenied, match="Pick a scenario"):
        world.app.start(ravi, "a:someone-elses-assignment")
