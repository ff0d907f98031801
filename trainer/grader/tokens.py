"""How a turn's raw text becomes tokens and sentence pieces, the same way for training and grading.

Tuned for speed (ASCII twins of the patterns, possessive quantifiers, tokenising only a long line's
tail): tests pin each shortcut to the plain computation, since the weights were trained on that.
"""

from __future__ import annotations

import re

from trainer.grader.lexicons import AUX_WORDS, WH_WORDS

# Turns longer than this are cut to their head and tail: the question usually sits at the end and
# the features of a 5,000-character paste add nothing but time.
MAX_CHARS = 1500
_HEAD_CHARS = 400
_MAX_TOKEN = 24
_MAX_CONTEXT_TOKENS = 30

# Possessive quantifiers: nothing follows a word in these patterns, so backtracking into it could
# never change a match; not recording the backtracking points makes the tokeniser faster.
_TOKEN_RE = re.compile(r"\w++(?:['’]\w++)*+|[?¿$€£%!]", re.UNICODE)
_WORD_RE = re.compile(r"\w++(?:['’]\w++)*+", re.UNICODE)
# The same patterns for ASCII-only text, on which Unicode and ASCII \w agree: the ASCII matcher is
# faster, and most turns are ASCII (see find_tokens).
_TOKEN_ASCII_RE = re.compile(_TOKEN_RE.pattern, re.ASCII)
_WORD_ASCII_RE = re.compile(_WORD_RE.pattern, re.ASCII)
# Split after sentence punctuation and at line breaks. Both alternatives start at a whitespace
# character: the lookahead rejects every other position before the costlier lookbehind runs.
_SENT_SPLIT_RE = re.compile(r"(?=\s)(?:(?<=[.!?…])\s+|\n+)")
_BRACKET_RE = re.compile(r"\[[^\]]{0,60}\]")
DIGIT_RE = re.compile(r"\d")


def find_tokens(text: str, pos: int = 0) -> list[str]:
    """`_TOKEN_RE.findall(text, pos)`, through the faster ASCII twin when `text` is ASCII."""
    return (_TOKEN_ASCII_RE if text.isascii() else _TOKEN_RE).findall(text, pos)


def find_words(text: str) -> list[str]:
    """`_WORD_RE.findall(text)`, through the faster ASCII twin when `text` is ASCII."""
    return (_WORD_ASCII_RE if text.isascii() else _WORD_RE).findall(text)


def clean(text: str) -> str:
    """Drop transcript annotations, unify apostrophes and cut overlong turns to head + tail."""
    if len(text) > MAX_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-(MAX_CHARS - _HEAD_CHARS) :]
    if "[" in text:  # an annotation needs a "[": most turns skip the regex scan
        text = _BRACKET_RE.sub(" ", text)
    if not text.isascii():  # the characters replaced are all non-ASCII, and isascii() is O(1)
        text = text.replace("’", "'").replace("‘", "'").replace("？", "?").replace("¿", " ¿ ")
    return text.strip()


def tokenise(text: str) -> tuple[list[str], list[str]]:
    """Return (surface tokens, normalised tokens): lowercase, digits folded to 0."""
    surface = find_tokens(text)
    return surface, normalise(surface)


def normalise(surface: list[str]) -> list[str]:
    """Normalise tokens: lowercase, digits folded to 0, capped at _MAX_TOKEN characters.

    Token by token in effect (`normalise(s)[i:] == normalise(s[i:])`), which `extract` relies on
    to reuse a turn's tokens for its question sentence and to normalise only the context's tail.
    """
    # Tokens never contain spaces, so one lower() and one digit substitution over the joined string
    # normalise them all at once.
    norm = DIGIT_RE.sub("0", " ".join(surface).lower().replace("’", "'")).split(" ")
    if len(norm) != len(surface):  # defensive: a case change that produced a space
        norm = [DIGIT_RE.sub("0", t.lower().replace("’", "'")) for t in surface]
    # Unspaced scripts and junk can make one giant "word"; its head is enough.
    if norm and max(map(len, norm)) > _MAX_TOKEN:
        norm = [t if len(t) <= _MAX_TOKEN else t[:_MAX_TOKEN] for t in norm]
    return norm if surface else []


# The counterpart's line is tokenised from a space this far from its end when it is longer.
_CONTEXT_WINDOW = 400


def context_tail(ctx: str) -> list[str]:
    """The last _MAX_CONTEXT_TOKENS surface tokens of the counterpart's (cleaned) line.

    A long line is tokenised only from a space near its end: no token contains a space, so the
    tokens after it are exactly those the whole line has there. Too few of them (long unspaced
    text): the whole line.
    """
    if len(ctx) > _CONTEXT_WINDOW:
        start = ctx.find(" ", len(ctx) - _CONTEXT_WINDOW)
        if start >= 0:
            tail = find_tokens(ctx, start)
            if len(tail) >= _MAX_CONTEXT_TOKENS:
                return tail[-_MAX_CONTEXT_TOKENS:]
    return find_tokens(ctx)[-_MAX_CONTEXT_TOKENS:]


# Self-interruptions inside a sentence ("Is it-- Why'd she leave?", "how's that- how's that going"):
# a break between two attempts at a question, so the question features look at the last attempt.
_DASH_BREAK_RE = re.compile(r"\s*(?:-{2,}|[—–])\s*|(?<=\w)-\s+|\s+-(?=\w)")
_HAS_WORD_RE = re.compile(r"\w")
_TRUNCATED_RE = re.compile(r"(?:-|—|–|\.\.\.|…)\s*$")


def _has_breaks(text: str) -> bool:
    """Whether `text` may hold a dash break or a trailing cut (a dash, "..." or "…")."""
    return "-" in text or "—" in text or "–" in text or "…" in text or "..." in text


def split_segments(raw: str) -> list[tuple[str, bool]]:
    """Sentences cut further at dash breaks, each with whether it was cut off (ended in a dash).

    A piece with no words ("--?") joins the piece before it, so "..., or--?" stays one question.
    """
    out: list[tuple[str, bool]] = []
    # Splitting removes only whitespace, so a turn without dashes or dots has none in any sentence.
    breaks = _has_breaks(raw)
    for sent in _SENT_SPLIT_RE.split(raw):
        if not breaks or not _has_breaks(sent):
            sent = sent.strip()
            if sent:
                out.append((sent, False))
            continue
        pieces = _DASH_BREAK_RE.split(sent)
        last = len(pieces) - 1
        first = len(out)
        for i, piece in enumerate(pieces):
            cut = i < last or bool(_TRUNCATED_RE.search(piece))
            piece = piece.strip(" -—–\t")
            if not piece:
                continue
            if out and not _HAS_WORD_RE.search(piece):
                out[-1] = (out[-1][0] + piece, cut and "?" not in piece)
                continue
            if len(out) > first and i == last and _is_afterthought(piece, out[-1][0]):
                out[-1] = (out[-1][0] + " — " + piece, cut)
                continue
            out.append((piece, cut))
    return out


# "What would it mean for you — not for the firm, for you?": a short tail after a dash that does not open
# like a question narrows the question before it rather than starting a new attempt ("Is it-- Why'd she
# leave?"), when the piece before asks with a wh-word. Words that open an attempt: wh-words, auxiliaries,
# tell/walk/talk, or any of them after and/or/so/but/then.
_ATTEMPT_OPENERS = WH_WORDS | AUX_WORDS | {"tell", "walk", "talk"}
_JOINERS = frozenset(("and", "or", "so", "but", "then"))


def _opens_attempt(word: str) -> bool:
    return word in _ATTEMPT_OPENERS or word.split("'")[0] in _ATTEMPT_OPENERS  # "why'd" opens like "why"


def _is_afterthought(piece: str, before: str) -> bool:
    if not piece.endswith("?") or WH_WORDS.isdisjoint(find_words(before.lower())):
        return False
    words = find_words(piece.lower())
    if not words or len(words) > 6:
        return False
    opener = words[1] if words[0] in _JOINERS and len(words) > 1 else words[0]
    return not _opens_attempt(opener)
