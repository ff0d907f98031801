"""Speech act and addressee: the outside turns that motivated `trainer/grader/speech_acts.py`.

Each line is one of the kinds the issue listed (written for this test, not taken from any labelled
set): what `trainer classify` prints must follow what the turn does, not which pronouns it uses.
"""

from __future__ import annotations

import pytest

from trainer.grader.assess import assess_turn
from trainer.grader.features import extract

CASES = [
    # Asking about them while mentioning us: discovery.
    ("What would you need to see from us?", "customer"),
    ("What did we get wrong for you?", "customer"),
    # Logistics and hand-offs: neutral, whoever they name.
    ("I can send you her email.", "neutral"),
    ("Shall we keep it short?", "neutral"),
    # A reflection without a question still listens.
    ("That sounds exhausting.", "customer"),
    # Pitches phrased as questions, and promises to do whatever they ask, are pitches.
    ("Could your team spare two stores for a six-week pilot of Seasonly?", "pitch"),
    ("How would you feel about a flat subscription rather than consultancy fees?", "pitch"),
    ("Of course, you're the boss. Whatever you need, we'll make it happen.", "pitch"),
    # Citing research is telling, not a peer's insight (the narrowed insight rule).
    ("Research shows that even a small donation helps children get an education.", "pitch"),
]


@pytest.mark.parametrize(("text", "focus"), CASES)
def test_focus_follows_the_speech_act(text, focus):
    assert assess_turn(text, 1).focus == focus


def test_the_cues_name_the_act_and_whom_it_is_about():
    names = {n for n, _ in extract("What would you need to see from us?").other}
    assert {"sa:ask", "sa:ask_you_we", "sa:ask_subj_you"} <= names
    names = {n for n, _ in extract("Could your team spare two stores for a pilot?").other}
    assert "sa:pitch_q" in names
    names = {n for n, _ in extract("I'm sorry. Let me show you what we do.").other}
    assert {"sa:tell", "sa:show", "sa:empathy_then_show"} <= names
