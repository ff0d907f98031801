"""The role-play flow: hidden motives open only to discovery, pitching ends meetings, sessions persist."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SEED_SCENARIOS, cli, cli_json, play, script
from trainer.roleplay.persona import initial_state
from trainer.roleplay.session import SessionError, Sessions
from trainer.roleplay.voice import offline_voice


@pytest.mark.parametrize("scenario_id", SEED_SCENARIOS)
def test_pitch_only_never_opens_a_hidden_layer(sessions, catalog, scenario_id):
    final, views = play(sessions, scenario_id, script(scenario_id, "pitch"))
    assert all(view.state.unlocked == [] for view in views)
    persona = catalog.persona(catalog.scenario(scenario_id).persona)
    locked_lines = [line for layer in persona.hidden for line in layer.reveal]
    spoken = " ".join(t.text for t in final.turns if t.speaker == "persona")
    assert not any(line in spoken for line in locked_lines)
    assert final.state.trust < persona.start_trust


@pytest.mark.parametrize("scenario_id", SEED_SCENARIOS)
def test_pitching_ends_the_meeting_and_impatient_personas_end_it_early(sessions, catalog, scenario_id):
    persona = catalog.persona(catalog.scenario(scenario_id).persona)
    pitches = script(scenario_id, "pitch")
    final, _ = play(sessions, scenario_id, pitches * 3)
    assert final.ended and final.state.reason == "patience"
    trainee_turns = sum(1 for t in final.turns if t.speaker == "trainee")
    if persona.patience <= 3:
        assert trainee_turns <= len(pitches) < catalog.scenario(scenario_id).max_turns


def test_at_least_two_seed_personas_are_impatient(catalog):
    assert (
        sum(1 for sid in SEED_SCENARIOS if catalog.persona(catalog.scenario(sid).persona).patience <= 3) >= 2
    )


@pytest.mark.parametrize("scenario_id", SEED_SCENARIOS)
def test_discovery_opens_the_so_i_can_within_eight_turns(sessions, catalog, scenario_id):
    persona = catalog.persona(catalog.scenario(scenario_id).persona)
    so_i_can = next(layer.id for layer in persona.hidden if layer.layer == "so_i_can")
    final, views = play(sessions, scenario_id, script(scenario_id, "discovery"))
    opened_at = next(n for n, view in enumerate(views) if so_i_can in view.state.unlocked)
    assert opened_at <= 8
    reveal = views[opened_at].last_reply
    assert any(line in reveal for line in persona.layer(so_i_can).reveal)
    assert final.state.trust > persona.start_trust


def test_same_seed_same_transcript_and_seeds_vary(catalog):
    lines = script("vp_budget_review", "discovery")
    first, _ = play(Sessions(catalog), "vp_budget_review", lines, seed=7)
    again, _ = play(Sessions(catalog), "vp_budget_review", lines, seed=7)
    assert [t.text for t in first.turns] == [t.text for t in again.turns]
    others = {
        tuple(t.text for t in play(Sessions(catalog), "vp_budget_review", lines, seed=s)[0].turns)
        for s in range(8)
    }
    assert len(others) > 1


def test_no_line_repeats_while_another_is_available(sessions, catalog):
    persona = catalog.persona("cost_cutting_vp")
    n_closed = len(persona.reactions.closed_question)
    persona_patient = Sessions(catalog)
    view = persona_patient.start("vp_budget_review", seed=3)
    replies = []
    for _ in range(n_closed):
        view = persona_patient.send(view.id, "Is your team in this building?")
        replies.append(view.last_reply)
    assert len(set(replies)) == n_closed


def test_session_resumes_in_a_new_process_at_turn_four(tmp_path):
    lines = script("vp_budget_review", "discovery")
    env = {"TRAINER_DATA_DIR": str(tmp_path / "resume")}
    first = cli(
        "chat", "--scenario", "vp_budget_review", "--seed", "11", stdin="\n".join(lines[:3]) + "\n", env=env
    )
    assert first.returncode == 0, first.stderr
    session_id = re.search(r"--resume (\w+)", first.stdout).group(1)
    second = cli("chat", "--resume", session_id, stdin=lines[3] + "\n", env=env)
    assert second.returncode == 0, second.stderr

    # An uninterrupted run with the same seed: turn 4's reply depends on the trust earned in turns 1-3.
    script_file = tmp_path / "lines.txt"
    script_file.write_text("\n".join(lines[:4]) + "\n")
    straight = cli_json(
        "run", "--scenario", "vp_budget_review", "--seed", "11", "--trainee", str(script_file), "--json"
    )
    expected = straight[0]["transcript"]["turns"]
    assert len(expected) == 9
    position = 0
    for turn in expected:
        position = second.stdout.index(turn["text"], position)
    assert expected[-1]["text"] not in first.stdout


def test_failed_reply_leaves_the_session_unchanged_and_retryable(catalog):
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("model unavailable")
        return offline_voice(request)

    sessions = Sessions(catalog, voice=flaky)
    view = sessions.start("vp_budget_review", seed=2)
    view = sessions.send(view.id, "What's on your plate this quarter?")
    before = sessions.view(view.id)
    with pytest.raises(ConnectionError):
        sessions.send(view.id, "What's driving the pressure on the budget?")
    after_failure = sessions.view(view.id)
    assert after_failure.turns == before.turns
    assert after_failure.state == before.state
    retried = sessions.send(view.id, "What's driving the pressure on the budget?")
    assert len(retried.turns) == len(before.turns) + 2


def test_ended_session_and_empty_turn_are_refused(sessions):
    view = sessions.start("vp_budget_review", seed=1)
    with pytest.raises(SessionError, match="empty turn"):
        sessions.send(view.id, "   ")
    view = sessions.send(view.id, "Thanks for your time, goodbye.")
    assert view.ended and view.state.reason == "goodbye"
    assert view.scorecard is not None
    with pytest.raises(SessionError, match="has ended"):
        sessions.send(view.id, "One more thing?")


def test_initial_state_opens_challenges_raised_in_the_opening(catalog):
    client = catalog.persona("you_work_for_me_client")
    assert "open" in initial_state(client).challenges.values()


def test_rewind_tries_a_different_question_and_scores_the_path_taken(sessions):
    view = sessions.start("vp_budget_review", seed=4)
    view = sessions.send(view.id, "What's taking most of your attention this quarter?")
    after_one = view
    view = sessions.send(view.id, "Our platform cuts supplier costs by 30%. Can I show you a demo?")
    view = sessions.send(view.id, "We also have a discount this month.")
    assert view.state.patience < after_one.state.patience

    rewound = sessions.rewind(view.id, 1)
    assert rewound.turns == after_one.turns and rewound.state == after_one.state
    view = sessions.send(
        view.id, "You said money comes up in every meeting. What's driving the pressure on the budget?"
    )
    assert "budget_edge" in view.state.unlocked
    assert [len(v.turns) for v in sessions.history(view.id)] == [1, 3, 5]
    view = sessions.send(view.id, "Thanks for your time, goodbye.")
    assert all(turn["focus"] != "pitch" for turn in view.scorecard.turns)
    with pytest.raises(SessionError, match="no turn 9"):
        sessions.rewind(view.id, 9)
