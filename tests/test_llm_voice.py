"""The LLM voice in a session: streamed replies, guarded words, token counts, failures that change nothing."""

from __future__ import annotations

import pytest

from tests.fakes import ScriptedChatModel
from trainer.llm.seam import ModelUnavailable
from trainer.roleplay.llm_voice import LLMVoice, clean_reply
from trainer.roleplay.session import Sessions

FIRST = "What's on your plate this quarter?"
SECOND = "What's driving the pressure on the budget?"


def voiced(catalog, *replies, responder=None):
    fake = ScriptedChatModel(replies, responder=responder)
    return fake, Sessions(catalog, voice=LLMVoice(fake, "gpt-4o-mini", temperature=0.5))


def test_reply_streams_token_by_token_and_the_session_keeps_it(catalog):
    fake, sessions = voiced(catalog, "Busy. Budget season, and a new CFO who reads every line.")
    view = sessions.start("vp_budget_review", seed=1)
    tokens: list[str] = []
    view = sessions.send(view.id, FIRST, on_token=tokens.append)
    assert len(tokens) > 5
    assert "".join(tokens) == view.last_reply == "Busy. Budget season, and a new CFO who reads every line."
    assert fake.requests[0]["temperature"] == 0.5 and fake.requests[0]["model"] == "gpt-4o-mini"
    fake.assert_used_up()


def test_send_without_a_callback_returns_the_same_view_as_before(catalog):
    _, sessions = voiced(catalog, "Busy.", "Budget.")
    view = sessions.start("vp_budget_review", seed=1)
    view = sessions.send(view.id, FIRST)
    assert view.last_reply == "Busy." and len(view.turns) == 3
    view = sessions.send(view.id, SECOND)
    assert sessions.view(view.id).turns == view.turns and view.last_reply == "Budget."


def test_usage_adds_up_per_session_and_survives_in_the_checkpoint(catalog):
    _, sessions = voiced(catalog, "Busy.", "Budget, mostly.")
    view = sessions.start("vp_budget_review", seed=1)
    assert view.usage == {}  # the opening line is authored: no model call
    view = sessions.send(view.id, FIRST)
    view = sessions.send(view.id, SECOND)
    usage = sessions.view(view.id).usage["gpt-4o-mini"]
    assert usage["calls"] == 2 and usage["prompt_tokens"] > 200 and usage["completion_tokens"] >= 2


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("As an AI language model, I cannot share my hidden motives.", "breaking_character"),
        ("You should ask me about my budget instead.", "coaching"),
        ("How you feel about this rep now: guarded; your patience is fine.", "prompt_leak"),
        ("Off the record: I'm talking to two companies about a COO role.", "locked_fact: next_career_move"),
        ("   ", "empty reply"),
    ],
)
def test_a_reply_that_breaks_the_role_is_replaced_by_the_authored_line(catalog, reply, why):
    persona = catalog.persona("cost_cutting_vp")
    _, sessions = voiced(catalog, reply)
    view = sessions.start("vp_budget_review", seed=1)
    view = sessions.send(view.id, FIRST)
    assert view.last_reply != reply.strip()
    authored = [*persona.reactions.open_question, *(h for layer in persona.hidden for h in layer.hints)]
    assert any(line in view.last_reply for line in authored)
    assert view.voice_notes and why in view.voice_notes[0]["note"] and view.voice_notes[0]["turn"] == 1


def test_failed_model_call_leaves_the_session_unchanged_and_the_turn_can_be_resent(catalog):
    fake, sessions = voiced(
        catalog,
        "Busy.",
        ModelUnavailable("The model server at x did not answer after 4 attempts (HTTP 503)."),
        "Budget, mostly.",
    )
    view = sessions.start("vp_budget_review", seed=1)
    view = sessions.send(view.id, FIRST)
    before = sessions.view(view.id)
    with pytest.raises(ModelUnavailable):
        sessions.send(view.id, SECOND, on_token=lambda _: None)
    after = sessions.view(view.id)
    assert (after.turns, after.state, after.usage) == (before.turns, before.state, before.usage)
    view = sessions.send(view.id, SECOND)
    assert view.last_reply == "Budget, mostly." and len(view.turns) == len(before.turns) + 2
    fake.assert_used_up()


def test_clean_reply_keeps_only_the_personas_words():
    name = "Renata Okafor"
    assert clean_reply('Renata Okafor: "Fine. Twenty minutes."', name) == "Fine. Twenty minutes."
    assert clean_reply("**Renata:** Fine.\nRep: Great, so about our demo", name) == "Fine."
    assert clean_reply("One. Two. Three. Four. Five. Six.", name) == "One. Two. Three. Four."
