"""Polite wrappers around a question: "Could I ask what this would mean for you?" asks what its clause asks.

Formal and careful speakers frame their best questions ("May I ask…", "If I may ask…", "Would you mind
telling me…", "I would value hearing more…"). The turn classifier reads "Could I…" as a proposal and so
as a pitch; the grader reads the turn without its frame instead, as if the clause were asked directly.
"""

from __future__ import annotations

import re

# Where a wrapper may begin: the turn's start, after a sentence, a dash or a comma.
_AT = r"(?:^|(?<=[.!?;:])\s+|(?<=[—–])\s*|(?<=\s-)\s*|(?<=,)\s+)"
_LEAD = r"(?:(?:and|so|but|then|okay|ok|now|also|well)[,]?\s+)*"
_ASK = (
    r"(?:(?:can|could|may|might) i (?:just |also |perhaps |please |now |quickly )?ask(?: you)?"
    r"|(?:(?:can|could|may) i|let me) (?:start|begin|open) (?:by|with) asking(?: you)?"
    r"|(?:do|would) you mind (?:if i ask(?:ed)?|me asking|telling me|sharing|saying)"
    r"|i(?:'d| would)? (?:just )?(?:like|love|want|wanted) to ask(?: you)?"
    r"|let me ask(?: you)?)"
)
# The clause it wraps: a wh-word stays ("…ask what drives it" -> "What drives it"), if/whether goes.
_CLAUSE = r"(?:(?:if|whether)\s+(?=\w)|(?=(?:what|how|why|where|when|who|whom|whose|which)\b))"
_WRAPPED = re.compile(_AT + _LEAD + _ASK + r"[,:]?\s+" + _CLAUSE, re.IGNORECASE)
# "…, if I may ask?" and "Just one, if I may: …?" frame a question that follows; "If I may, set the
# criteria first." frames advice, and stays.
_IF_I_MAY = re.compile(r",?\s*\bif i (?:may|might|can)(?: ask)?\b[,:]?(?=[^?]*\?)", re.IGNORECASE)
# A request to go on, framed as a favour: "Would you mind expanding on that?" -> "Could you expand on that?"
_GO_ON = re.compile(
    r"\b(?:would|do) you mind (expand|elaborat|explain|talk|walk|shar|say|tell|go)(?:ing|e)?\b", re.IGNORECASE
)
_GO_ON_VERB = {
    "expand": "expand",
    "elaborat": "elaborate",
    "explain": "explain",
    "talk": "talk",
    "walk": "walk",
    "shar": "share",
    "say": "say",
    "tell": "tell",
    "go": "go",
}
_VALUE_HEARING = re.compile(
    r"\bi(?:'d| would) (?:really )?(?:value|appreciate|welcome) (?:hearing|to hear)\b", re.IGNORECASE
)


_SENTENCE_END = re.compile(r"[.!]")
_SPACES = re.compile(r"\s{2,}")
_CUE = re.compile(r"\b(?:ask|asking|mind|value|appreciate|welcome|if i)\b", re.IGNORECASE)


def _as_question(start: int, text: str) -> str:
    """Capitalise the clause at `start`; a wrapped clause that ends the turn ends with "?": it asks."""
    text = text[:start] + text[start : start + 1].upper() + text[start + 1 :]
    rest = text[start:].rstrip()
    if "?" in rest or _SENTENCE_END.search(rest[:-1]):
        return text  # asked already, or other sentences follow (or "Dr." and the like): leave them be
    return text[:start] + (rest[:-1] if rest[-1:] in ".!" else rest) + "?"


def unwrapped(text: str) -> str:
    """The turn with its polite question frames removed (the text itself when it has none)."""
    if not _CUE.search(text):
        return text
    out = _IF_I_MAY.sub(lambda m: ": " if m.group().endswith(":") else "", text)
    out = _GO_ON.sub(lambda m: "could you " + _GO_ON_VERB[m.group(1).lower()], out)
    out = _VALUE_HEARING.sub("tell me", out)
    while (m := _WRAPPED.search(out)) is not None and m.end() > m.start():
        out = out[: m.start()] + (" " if m.start() > 0 else "") + out[m.end() :]
        out = _as_question(m.start() + (1 if m.start() > 0 else 0), out)
    out = _SPACES.sub(" ", out).strip()
    return out[:1].upper() + out[1:] if out else text
