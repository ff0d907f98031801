"""Polite frames around a question: "Could I ask what…?" is graded by what it asks, not as a proposal.

The turns are written for this test (they are of the kind a careful, formal outside author used in
discovery set N, where "Could I ask what a cost win would mean for you personally?" was read as a pitch
and the persona ended the meeting).
"""

from __future__ import annotations

import pytest

from trainer.grader.assess import assess_turn
from trainer.grader.wrappers import unwrapped
from trainer.schema import Turn

BEFORE = [Turn(speaker="persona", text="Finance wants twelve percent out by December.")]

ASKS = [
    # (turn, focus, depth)
    ("And could I ask what hitting the twelve percent would mean for you?", "customer", "personal"),
    ("May I ask, if the cut lands on contractors, who else feels it?", "customer", "implication"),
    ("Might I ask what made finance pick December?", "customer", None),
    ("What keeps you up at night about it, if I may ask?", "customer", None),
    ("Thanks for the time. Can I start by asking what you most want to change this year?", "customer", None),
]


@pytest.mark.parametrize(("text", "focus", "depth"), ASKS)
def test_a_polite_frame_is_graded_by_the_question_it_carries(text, focus, depth):
    judged = assess_turn(text, 1, BEFORE)
    assert judged.focus == focus
    assert judged.question == "open"
    if depth:
        assert judged.depth == depth
    assert judged.text == text  # the rep's words are kept as said


@pytest.mark.parametrize(
    "text",
    [
        "Could I show you the dashboard?",
        "Can I ask you to look at our pricing before Friday?",
    ],
)
def test_frames_around_a_proposal_or_advice_stay_pitches(text):
    assert assess_turn(text, 1, BEFORE).focus == "pitch"


def test_unwrapping_keeps_the_clause_and_makes_it_a_question():
    said = "Thanks. May I ask: how long has it been like this"
    assert unwrapped(said) == "Thanks. How long has it been like this?"
    assert unwrapped("I wanted to ask who owns it.") == "Who owns it?"
    assert unwrapped("Could I ask whether the board has seen it?") == "The board has seen it?"
    assert unwrapped("Would you mind expanding on that?") == "Could you expand on that?"
    assert unwrapped("Can I ask you something?") == "Can I ask you something?"  # nothing wrapped yet
    advice = "If I may, set your exit criteria before you launch."
    assert unwrapped(advice) == advice  # "if I may" frames a question only when one follows


@pytest.mark.parametrize(
    "text",
    [
        "Can you open that up a little for me? I want to understand it properly.",
        "Could you unpack that for me?",
    ],
)
def test_asking_them_to_go_on_in_other_words_is_about_them(text):
    assert assess_turn(text, 1, BEFORE).focus == "customer"
