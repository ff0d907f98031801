"""`Phrases` answers exactly what the word-start regex it replaced would, on every phrase list in use."""

from __future__ import annotations

import json
import random
import re

import pytest

from tests.conftest import ROOT
from trainer.grader import moves
from trainer.rubrics import builtin_rubrics
from trainer.text import Phrases


def regex(*phrases: str) -> re.Pattern[str]:
    """The pattern `word_pattern` compiled before `Phrases`."""
    escaped = sorted((re.escape(p.lower()) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(escaped) + ")")


def texts() -> list[str]:
    out = []
    for path in sorted((ROOT / "training").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out += [row.get("text") or "", row.get("context") or ""]
    rng = random.Random(3)
    words = ["cost", "costs", "recost", "pain", "spain", "impact", "1:1", "x1:1", "démo", "édemo", "_demo"]
    words += ["9demo", "demo", "-demo"]
    out += [" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) for _ in range(2000)]
    return [t.lower() for t in out]


def phrase_lists() -> list[tuple[str, ...]]:
    rubrics = builtin_rubrics()
    lists = [tuple(phrases) for phrases in rubrics.topics.values()] + [rubrics.out_of_role]
    lists += [m.phrases for m in (moves._GOODBYE, moves._NEXT_STEP, moves.PRODUCT, moves.INSIGHT)]
    lists += [m.phrases for _, m in moves._SPIN]
    return [*lists, ("cost", "demo", "1:1", "pain"), ("a",), ()]


@pytest.mark.parametrize("phrases", phrase_lists(), ids=lambda p: p[0] if p else "none")
def test_phrases_match_where_the_regex_did(phrases):
    matcher, pattern = Phrases(*phrases), regex(*phrases)
    for text in texts():
        assert matcher.search(text) == bool(pattern.search(text)), (phrases, text)
