"""Which piece of a turn carries its question, and the none/open/closed features computed from it."""

from __future__ import annotations

from bisect import bisect_left

from trainer.grader.lexicons import (
    AUX_WORDS,
    BACKCHANNEL,
    CLOSED_PATTERNS,
    ELAB_RE,
    FACT_HOW,
    FACT_NOUNS,
    FACT_WH,
    FILLERS,
    HEAD_SKIP,
    OPEN_PATTERNS,
    OPEN_STARTERS,
    QH_LEN,
    QH_N_Q,
    QH_QLEN,
    QLEN_EDGES,
    TAG_PAIRS,
    TAG_WORDS,
    TURN_LEN_EDGES,
    WH_WORDS,
    WHAT_FUNCTION,
)
from trainer.grader.tokens import find_words


def question_sentence(segments: list[tuple[str, bool]], real: list[bool]) -> tuple[str, bool, bool]:
    """The piece that carries the turn's question, whether it has a '?', and whether it was cut off.

    `real[i]` says whether segment i has a '?' and is a real question (`is_real_question`).
    The last real question with '?' wins ("Thanks. What keeps you up at night?" is counted by its
    question; "Is it-- Why'd she leave?" by its second attempt). Without a '?', the last piece that
    opens like a question ("how often do you think you'll--") stands in, else the last piece.
    """
    fallback = None
    for (sent, cut), is_real in zip(reversed(segments), reversed(real), strict=True):
        if is_real:
            return sent, True, cut
        if fallback is None and "?" in sent:
            fallback = (sent, True, cut)
    if fallback is not None:
        return fallback
    for sent, cut in reversed(segments):
        head = _head(find_words(sent.lower()))
        if head and (head[0] in WH_WORDS or head[0] in AUX_WORDS):
            return sent, False, cut
    if segments:
        return segments[-1][0], False, segments[-1][1]
    return "", False, False


def _head(words: list[str]) -> list[str]:
    """The words of a question after its fillers and hedges ("so, um, roughly how many ...")."""
    i = 0
    while i < len(words) - 1 and words[i] in HEAD_SKIP:
        i += 1
    return words[i : i + 3]


def head_kind(head: list[str], has_q: bool) -> str:
    """What a question's first words make it: wh, one-fact (how much / which / when / who / what time:
    closed), what + noun, auxiliary (yes/no), declarative, or "" when it asks nothing."""
    h0 = head[0] if head else ""
    h1 = head[1] if len(head) > 1 else ""
    if h0 in WH_WORDS:
        if (h0 == "how" and h1 in FACT_HOW) or h0 in FACT_WH:
            return "fact"
        if h0 == "what" and h1:
            if h1 in FACT_NOUNS:
                return "fact"
            if h1 not in WHAT_FUNCTION:
                return "what_noun"
        return "wh"
    if h0 in AUX_WORDS:
        return "aux"
    return "decl" if has_q else ""  # "So it wasn't what you expected?", "The budget is fixed, right?"


# "If you could only fix one, which would it be?", "When the six weeks are up, is there one number...?":
# the question after a leading condition or time clause is what decides open vs closed.
_CLAUSE_OPENERS = frozenset(("if", "when", "once", "after", "before", "unless", "say", "suppose", "assuming"))


def clause_kind(head: list[str], qsent: str, has_q: bool) -> str:
    """The head kind of the main clause after a leading condition ("" when there is none); `head` is the
    question's own (`_head`)."""
    if not head or head[0] not in _CLAUSE_OPENERS or "," not in qsent:
        return ""
    after = find_words(qsent[qsent.index(",") + 1 :].lower())
    return head_kind(_head(after), has_q) if after else ""


def first_words(words: list[str], n: int) -> list[str]:
    """The first `n` of a question's `words` (punctuation already dropped) after leading fillers."""
    i = 0
    last = len(words) - 1
    while i < last and words[i] in FILLERS:
        i += 1
    return words[i : i + n]


def is_real_question(sentence: str) -> bool:
    """True unless the sentence is only backchannel words ("Yeah?", "Oh, really?")."""
    return not BACKCHANNEL.issuperset(find_words(sentence.lower()))


def question_features(
    norm: list[str],
    qnorm: list[str],
    words: list[str],
    first: list[str],
    has_q: bool,
    lowered: str,
    qtext: str,
    n_q: int,
    cut: bool,
    n_real_q: int,
    proposal: bool = False,
    qsent: str = "",
) -> list[tuple[str, float]]:
    """Features for none/open/closed, centred on the sentence that carries the question.

    From `extract`: `words` are the question's tokens `qnorm` without "¿", "?" and "!", `first`
    their first three after fillers; `lowered` and `qtext` are the turn's and the question's tokens
    joined by spaces, with a space either side.
    """
    feats: list[tuple[str, float]] = [("qh:bias", 1.0)]
    add = feats.append
    if has_q:
        add(("qh:has_q", 1.0))
        add(QH_N_Q[min(n_q, 3)])
        if norm[-1] == "?":
            add(("qh:ends_q", 1.0))
        if n_real_q >= 2:
            add(("qh:multi_q", 1.0))
    else:
        add(("qh:no_q", 1.0))
    if cut:
        add(("qh:cut", 1.0))
    f1 = first[0] if first else ""
    if f1:
        add(("qf1:" + f1, 1.0))
    if len(first) >= 2:
        add((f"qf2:{first[0]} {first[1]}", 1.0))
    if len(first) >= 3:
        add((f"qf3:{first[0]} {first[1]} {first[2]}", 1.0))
    if f1 in WH_WORDS:
        add(("qh:wh", 1.0))
    if f1 in OPEN_STARTERS:
        add(("qh:open_starter", 1.0))
    if f1 in AUX_WORDS:
        add(("qh:aux", 1.0))
    # Where the wh-word sits ("and so what ..." vs "... what you expected?") and how the sentence ends.
    mode = "q" if has_q else ("cut" if cut else "noq")
    head = _head(words)
    kind = "proposal" if proposal else head_kind(head, has_q)
    if "why" in words[1:]:
        # "Which matters most, and why?" asks for the reason too: an explanation, so open.
        add(("qh:why_later", 1.0))
        if kind == "fact":
            kind = "wh"
    if kind:
        add((f"qk:{mode}_{kind}", 1.0))
        if kind in ("fact", "what_noun", "decl") and len(words) <= 8:
            add((f"qk:{mode}_{kind}_short", 1.0))
    last2 = f"{words[-2]} {words[-1]}" if len(words) >= 2 else ""
    if has_q and last2 and (words[-1] in TAG_WORDS or last2 in TAG_PAIRS):
        add(("qh:tag", 1.0))
    if not WH_WORDS.isdisjoint(words):
        wh_pos = next(i for i, t in enumerate(words) if t in WH_WORDS)
        add((f"qh:wh_at{min(wh_pos, 4)}", 1.0))
        if wh_pos + 1 < len(words):
            add((f"qwh:{words[wh_pos]} {words[wh_pos + 1]}", 1.0))
    elif has_q and f1 not in AUX_WORDS:
        add(("qh:declarative_q", 1.0))
    if last2:
        add(("qt:" + last2, 1.0))
    if words:
        add(("qt1:" + words[-1], 1.0))
    qscale = 1.0 / (max(len(qnorm), 1) ** 0.5)
    # Words and word pairs of the question (each token with the one before it), each once.
    pairs = zip(["<s>", *qnorm], qnorm, strict=False)
    if len(set(qnorm)) == len(qnorm):
        # Distinct tokens make distinct words and pairs (tokens hold no space): nothing to dedupe.
        feats += [(f"qw:{tok}", qscale) for tok in qnorm]
        feats += [(f"qb:{prev} {tok}", qscale) for prev, tok in pairs]
    else:
        names = [f"qw:{tok}" for tok in qnorm]
        names += [f"qb:{prev} {tok}" for prev, tok in pairs]
        feats += [(name, qscale) for name in dict.fromkeys(names)]
    # ELAB_RE has no capturing group, so findall() gives each whole match.
    elab = ELAB_RE.findall(qtext)
    for match in elab:
        feats.append(("qe:" + match.rsplit(" ", 1)[-1], 1.0))
        feats.append(("qe:any", 1.0))
    # When the question is the whole turn, the turn-level search has the answer already.
    turn_elab = elab if qtext == lowered else ELAB_RE.search(lowered)
    if turn_elab:
        feats.append(("qe:turn", 1.0))
        if not has_q:
            feats.append(("qe:turn_noq", 1.0))
    for pat in OPEN_PATTERNS:
        if pat in lowered:
            feats.append(("qp:" + pat, 1.0))
    for pat in CLOSED_PATTERNS:
        if pat in qtext:
            feats.append(("qc:" + pat.strip(), 1.0))
    feats.append(QH_QLEN[bisect_left(QLEN_EDGES, len(qnorm))])
    feats.append(QH_LEN[bisect_left(TURN_LEN_EDGES, len(norm))])
    if has_q and not proposal and (main := clause_kind(head, qsent, has_q)):
        feats.append((f"qk:clause_{main}", 1.0))  # last, before the turn-level flags `extract` adds
    return feats
