"""How a persona hears a question the grader calls closed: a yes/no question gets a short answer, but a
narrow question that is no yes/no question ("And for you?", "Such as?") or a what/how question probing a
depth is an invitation to talk. Kept apart from the state machine, which only asks `asks_for_more`."""

from __future__ import annotations

import re

from trainer.text import sentences
from trainer.turns import Assessment

WH = frozenset(["what", "how", "why", "where", "who", "which", "when"])
# Which layer a customer-focused turn reaches by what it probes (its depth, grader/depth.py): what pushes
# them away from today, where they want to get to, and the personal "so I can" underneath.
LAYER_FOR_DEPTH = {
    "problem": "over_here",
    "implication": "over_here",
    "outcome": "over_there",
    "personal": "so_i_can",
}


def asks_for_more(assessment: Assessment) -> bool:
    """A "closed" question a person hears as an invitation to talk: a what/how question that probes a
    depth ("what's at stake for you in this?"), or one that is no yes/no question at all ("And for you?",
    "Such as?") probing a depth or following up. The grader may count it as one fact; the persona does not.
    """
    if assessment.focus != "customer" or assessment.question != "closed":
        return False
    # Every question of the turn: "What does it mean for you? Is there a date on it?" invites an answer
    # to the first, whatever the yes/no question after it.
    questions = [s.lower() for s in sentences(assessment.text) if s.endswith("?")] or [""]
    asked = [_words(q) for q in questions]
    wh = any(word.replace("'", " ").split()[0] in WH for words in asked for word in words if word)
    yes_no = all(_yes_no_form(q) for q in questions)
    probing = assessment.depth in LAYER_FOR_DEPTH
    return (probing and (wh or not yes_no)) or (assessment.follow_up and not wh and not yes_no)


def wants_more_than_yes(text: str, asked: str) -> bool:
    """A choice between answers ("...scope, people, or something else?"), or a yes/no question (`asked`,
    lower-cased) after a what/how question in the same turn: no bare yes or no answers it."""
    if " or " in asked:
        return True
    others = [q.lower().replace("'", " ") for q in sentences(text) if q.endswith("?") and q.lower() != asked]
    return any(set(q.split()[:2]) & WH for q in others)


# A yes/no question opens with a verb ("Is it...", "Did finance...", "Would it help..."), after any
# "and", "so", "but"; "And for you?" and "Meaning?" do not, so they ask for more than a yes.
_AUXILIARY = frozenset(
    [
        "is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "would", "will", "should",
        "shall", "have", "has", "had", "may", "might", "must", "isn't", "aren't", "wasn't", "weren't",
        "don't", "doesn't", "didn't", "can't", "couldn't", "wouldn't", "won't", "shouldn't", "haven't",
        "hasn't",
    ]
)  # fmt: skip
_MARKERS = frozenset(["and", "so", "but", "then", "okay", "ok", "right", "well", "now", "or"])


# ...or is a yes/no question with its verb left out ("Useful for your drivers?", "Worth a look?").
_ELLIPTIC = frozenset(
    ["useful", "helpful", "worth", "interested", "fair", "right", "true", "possible", "realistic", "ok",
     "okay", "sensible", "make", "sound", "sounds", "any", "happy", "keen", "open"]
)  # fmt: skip


# "Can you unpack that a little?", "Could you walk me through it?": a request to talk, not a yes/no question.
_REQUEST = re.compile(
    r"^(?:(?:and|so|then) )?(?:can|could|would|will) you (?:(?:please|just|maybe|perhaps) )?(?:mind )?"
    r"(?:tell|say|unpack|walk|explain|talk|expand|describe|share|give me|take me|elaborate|paint|help me|"
    r"go on|go into|put)\b"
)


def _words(question: str) -> list[str]:
    return [w.strip(",.?;:!") for w in question.split()]


def _yes_no_form(question: str) -> bool:
    """`question`: one lower-cased question sentence; after a colon, the question after it ("Offline
    mode: would dispatch use it?")."""
    asked = question.rsplit(":", 1)[-1].strip()
    if _REQUEST.match(asked):
        return False
    words = _words(asked)
    rest = [w for w in words if w]
    while rest and rest[0] in _MARKERS:
        rest = rest[1:]
    return (bool(rest) and rest[0] in _AUXILIARY | _ELLIPTIC) or " or " in f" {' '.join(words)} "
