"""Label definitions pinned on hand-written turns for every seed persona (tests/data/label_examples.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trainer.grader.assess import assess_turn
from trainer.grader.moves import checks_back
from trainer.schema import Turn

EXAMPLES = yaml.safe_load((Path(__file__).parent / "data" / "label_examples.yaml").read_text())
CASES = [
    pytest.param(persona, block["context"], turn, id=f"{persona}-{n}")
    for persona, block in EXAMPLES.items()
    for n, turn in enumerate(block["turns"])
]


def test_every_seed_persona_has_an_example_of_every_label():
    for persona, block in EXAMPLES.items():
        labels = {(t["focus"], t["question"]) for t in block["turns"]}
        assert {"customer", "pitch"} <= {focus for focus, _ in labels}, persona
        assert {"open", None} <= {question for _, question in labels}, persona


@pytest.mark.parametrize(("persona", "context", "turn"), CASES)
def test_turn_labels_follow_the_definitions(persona, context, turn):
    a = assess_turn(turn["text"], 1, [Turn(speaker="persona", text=context)])
    assert (a.focus, a.question) == (turn["focus"], turn["question"]), a.evidence


def test_a_summary_closed_by_a_bare_yes_checks_it_back():
    said = "So, if I say it back: cost is the topic, and the real question is shipping with less. Yes?"
    assert checks_back(said)
    assert checks_back("You want the cut from suppliers, not from staff. Right?")
    assert not checks_back("Yes?")  # a lone backchannel checks nothing
    assert not checks_back("Is it yes?")
    # A bare "Okay?" closes telling as often as a summary (an AnnoMI therapist stating their position).
    assert not checks_back("We'll carry on with the exam, but you know where I stand on this. Okay?")
