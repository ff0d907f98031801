"""The persona's update rule on hand-made assessments: what earns trust, what opens a layer, what ends it."""

from __future__ import annotations

from trainer.roleplay.persona import advance, effective_rules, end_check, initial_state
from trainer.rubrics import builtin_rubrics
from trainer.schema import Assessment, PersonaState


def turn(move: str, topics=(), focus=None, question=None, builds_on=False) -> Assessment:
    focus = focus or {"pitch": "pitch", "off_topic": "neutral", "insight": "neutral"}.get(move, "customer")
    if question is None:
        question = {"open_question": "open", "closed_question": "closed", "next_step": "closed"}.get(move)
    return Assessment(
        turn=1,
        text="...",
        focus=focus,
        question=question,
        move=move,
        topics=list(topics),
        builds_on=builds_on,
    )


def step(catalog, scenario_id, state, assessment, n=2):
    scenario = catalog.scenario(scenario_id)
    persona = catalog.persona(scenario.persona)
    return advance(persona, scenario, state, assessment, n, effective_rules(persona, builtin_rubrics().rules))


def vp_state(catalog, **changes) -> PersonaState:
    return initial_state(catalog.persona("cost_cutting_vp")).model_copy(update=changes)


def test_pitch_costs_trust_and_patience_and_never_opens_a_layer(catalog):
    state = vp_state(catalog, trust=90)
    new, plan = step(catalog, "vp_budget_review", state, turn("pitch", topics=["budget", "career"]))
    assert new.trust < 90 and new.patience == state.patience - 1
    assert new.unlocked == []
    assert [p.kind for p in plan.parts] == ["reaction"] and plan.parts[0].key == "pitched"


def test_closed_question_gets_a_brief_answer_and_opens_nothing(catalog):
    new, plan = step(
        catalog, "vp_budget_review", vp_state(catalog, trust=90), turn("closed_question", ["budget"])
    )
    assert new.unlocked == []
    assert plan.parts[0].key == "closed_question"


def test_open_question_on_a_topic_opens_the_layer_once_trust_is_earned(catalog):
    cold, plan = step(
        catalog, "vp_budget_review", vp_state(catalog, trust=5), turn("open_question", ["budget"])
    )
    assert cold.unlocked == [] and plan.parts[0].key == "guarded"
    warm, plan = step(
        catalog, "vp_budget_review", vp_state(catalog, trust=30), turn("open_question", ["budget"])
    )
    assert warm.unlocked == ["budget_edge"]
    assert plan.parts[0].kind == "reveal"


def test_layers_open_in_order(catalog):
    state = vp_state(catalog, trust=95)
    new, _ = step(catalog, "vp_budget_review", state, turn("open_question", ["career", "personal"]))
    assert "next_career_move" not in new.unlocked
    opened = vp_state(catalog, trust=95, unlocked=["budget_edge", "cost_story"])
    new, _ = step(catalog, "vp_budget_review", opened, turn("open_question", ["career"]))
    assert new.unlocked[-1] == "next_career_move"


def test_untouched_topic_gets_a_hint_towards_the_next_layer(catalog):
    _, plan = step(catalog, "vp_budget_review", vp_state(catalog, trust=40), turn("open_question", []))
    assert [(p.kind, p.key) for p in plan.parts] == [("reaction", "open_question"), ("hint", "budget_edge")]


def test_listening_moves_raise_trust_more_than_closed_questions(catalog):
    base = vp_state(catalog, trust=30)
    gains = {
        move: step(catalog, "vp_budget_review", base, turn(move))[0].trust - 30
        for move in ("open_question", "reflection", "closed_question", "off_topic")
    }
    assert (
        gains["reflection"] > gains["closed_question"] and gains["open_question"] > gains["closed_question"]
    )
    assert gains["off_topic"] < 0
    with_follow_up = (
        step(catalog, "vp_budget_review", base, turn("open_question", builds_on=True))[0].trust - 30
    )
    assert with_follow_up > gains["open_question"]


def test_next_step_is_granted_only_when_earned(catalog):
    early, plan = step(catalog, "vp_budget_review", vp_state(catalog, trust=30), turn("next_step"))
    assert not early.next_step_granted and plan.parts[0].key == "next_step_early"
    earned, plan = step(catalog, "vp_budget_review", vp_state(catalog, trust=80), turn("next_step"))
    assert earned.next_step_granted and plan.parts[0].key == "next_step_accepted"


def test_hallway_executive_grants_a_one_to_one_only_after_an_insight(catalog):
    persona = catalog.persona("hallway_executive")
    trusted = initial_state(persona).model_copy(update={"trust": 90})
    refused, _ = step(catalog, "hallway_one_to_one", trusted, turn("next_step"))
    assert not refused.next_step_granted
    shared, _ = step(catalog, "hallway_one_to_one", trusted, turn("insight", ["innovation"]))
    granted, _ = step(catalog, "hallway_one_to_one", shared, turn("next_step"), n=3)
    assert granted.next_step_granted


def test_you_work_for_me_challenge_passes_on_refocus_and_fails_on_pitch(catalog):
    persona = catalog.persona("you_work_for_me_client")
    state = initial_state(persona)
    challenge = next(iter(state.challenges))
    topic = persona.challenges[0].recover_topics[0]
    passed, plan = step(catalog, "work_for_me_kickoff", state, turn("open_question", [topic]), n=1)
    assert passed.challenges[challenge] == "passed" and passed.trust > state.trust
    assert plan.parts[0].kind == "challenge_passed"
    failed, plan = step(catalog, "work_for_me_kickoff", state, turn("pitch"), n=1)
    assert failed.challenges[challenge] == "failed" and failed.trust < state.trust
    assert [p.kind for p in plan.parts] == ["challenge_failed"]


def test_patience_runs_out_and_the_turn_limit_ends_the_meeting(catalog):
    last_straw, plan = step(catalog, "vp_budget_review", vp_state(catalog, patience=1), turn("pitch"))
    assert last_straw.ended and last_straw.reason == "patience"
    assert plan.parts[0].key == "patience_out"
    scenario = catalog.scenario("vp_budget_review")
    timed_out = end_check(scenario, vp_state(catalog), scenario.max_turns)
    assert timed_out.ended and timed_out.reason == "turn_limit"
