"""Small text helpers shared by the classifier, the topic matcher and the grader."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z][a-z'\-]+")
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
    is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
    or other ought our ours ourselves out over own same shan't she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've this those through to too under until up very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
    who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves just really also well yes yeah okay ok right thing things think know like
    said say get got going want much many even still way lot bit sure tell make made one two three
    something anything everything mean actually kind sort look feel need quite pretty
    """.split()  # noqa: SIM905
)


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class Phrases:
    """Any of some phrases at the start of a word ("cost" matches "costs") in LOWER-CASED text.

    `search(low)` says whether `re.compile(r"(?<![a-z0-9])(?:p1|p2|...)").search(low)` would match, with
    `str.find` instead of a compiled pattern: compiling the rubrics' and the moves' phrase lists took re's
    compiler about 7 ms, which every short command paid before it judged its first turn. Callers lower-case
    what they search, once per turn.
    """

    __slots__ = ("phrases",)

    def __init__(self, *phrases: str) -> None:
        self.phrases = tuple(dict.fromkeys(p.lower() for p in phrases))

    def search(self, low: str) -> bool:
        if not self.phrases:
            return True  # as the empty alternation, which matches anywhere
        for phrase in self.phrases:
            at = low.find(phrase)
            while at > 0 and low[at - 1] in _WORD_CHARS:  # inside a word: look further on
                at = low.find(phrase, at + 1)
            if at >= 0:
                return True
        return False


def content_words(text: str) -> set[str]:
    """Words that carry meaning (no stopwords, at least four letters), crudely singularised."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 4 or word in STOPWORDS:
            continue
        words.add(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)
    return words


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def question_sentence(text: str) -> str | None:
    """The sentence that carries the turn's question: the last one ending in '?'."""
    asked = [s for s in sentences(text) if s.endswith("?")]
    return asked[-1] if asked else None
