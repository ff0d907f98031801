"""Feature extraction for the per-turn classifier, shared by training and inference.

Training and grading both call `extract` (built on the tokens, lexicons and questions modules), so
the features the weights were trained on can never drift from the features computed at run time.
No numpy here: inference must stay dependency-free and fast.
"""

from __future__ import annotations

import functools
import hashlib
from bisect import bisect_left
from dataclasses import dataclass

from trainer.grader.lexicons import (
    ADVICE_RE,
    AUX_WORDS,
    BIAS_LEN,
    BIAS_LEN_EDGES,
    COMMIT_WORDS,
    CTX_LEN,
    CTX_LEN_EDGES,
    CTX_OVERLAP,
    FOCUS_LEXICON,
    H_I,
    H_N_Q,
    H_WE,
    H_YOU,
    I_WORDS,
    LOGISTICS_WORDS,
    OVERLAP_EDGES,
    PRODUCT_WORDS,
    PROPOSAL_START_RE,
    Q_PUNCT,
    REFLECT_RE,
    REQUEST_ANY_RE,
    REQUEST_START_RE,
    STATEMENT_STARTS,
    STOPWORDS,
    WE_WORDS,
    WH_WORDS,
    YOU_WORDS,
)
from trainer.grader.questions import first_words, is_real_question, question_features, question_sentence
from trainer.grader.speech_acts import speech_act_features
from trainer.grader.tokens import (
    DIGIT_RE,
    clean,
    context_tail,
    find_tokens,
    normalise,
    split_segments,
    tokenise,
)

FOCUS_CLASSES: tuple[str, ...] = ("customer", "pitch", "neutral")
QUESTION_CLASSES: tuple[str, ...] = ("none", "open", "closed")

CHAR_SIZES: tuple[int, ...] = (3, 4)


@functools.lru_cache(maxsize=65536)
def token_grams(tok: str) -> tuple[str, ...]:
    """Character n-grams of one normalised token (padded with spaces); empty for 1-char tokens."""
    if len(tok) < 2:
        return ()
    w = " " + tok + " "
    return tuple("c:" + w[s : s + size] for size in CHAR_SIZES for s in range(len(w) - size + 1))


@dataclass(frozen=True)
class Features:
    """Sparse features of one turn.

    Per-token features (word unigram "w:" and its character n-grams "c:") are kept implicit as
    `norm` plus two scales, so inference can cache them per token; `focus`/`owners` expand them
    into the flat list training uses. `other_owners[i]` is the token index feature i came from or -1.
    """

    norm: list[str]
    wscale: float
    cscale: float
    other: list[tuple[str, float]]
    other_owners: list[int]
    question: list[tuple[str, float]]
    tokens: list[str]  # surface forms, for evidence
    asks: bool  # has a real "?" sentence or an explicit request to explain, so the turn asks something

    @property
    def focus(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for tok in self.norm:
            out.append(("w:" + tok, self.wscale))
            out.extend((g, self.cscale) for g in token_grams(tok))
        out.extend(self.other)
        return out

    @property
    def owners(self) -> list[int]:
        out: list[int] = []
        for i, tok in enumerate(self.norm):
            out.extend([i] * (1 + len(token_grams(tok))))
        out.extend(self.other_owners)
        return out


def split_of(key: str, held_out_share: int = 4) -> str:
    """Deterministic train/held-out split: about 1 in `held_out_share` keys land in held-out.

    Hash-based (not random) so training and calibration agree without sharing state.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return "held-out" if int(digest[:8], 16) % held_out_share == 0 else "train"


def extract(text: str | None, context: str | None = None) -> Features:
    """Compute focus and question features for one trainee turn and the counterpart line before it.

    This runs for every turn the grader sees, so intermediate results (tokens, the question
    sentence, its words) are computed once and shared, and work whose result would be unused is
    skipped. The feature lists (names, values and order) must not change: the weights were
    trained on them, and the order fixes the summation order of the scores.
    """
    raw = clean(text or "")
    surface, norm = tokenise(raw)
    n = len(norm)
    if n == 0:
        return Features(norm, 0.0, 0.0, [("h:bias_len0", 1.0)], [-1], [("qh:empty", 1.0)], surface, False)
    # Features tied to a token (bigrams, lexicon hits) carry its index for evidence; the hand-made
    # ones in `hand` (value 1) and `weighted` belong to no token.
    hand: list[tuple[str, float]] = [BIAS_LEN[bisect_left(BIAS_LEN_EDGES, n)]]
    add = hand.append

    # Word unigrams (implicit, see Features) and bigrams, scaled so long turns do not dominate by
    # sheer count; character n-grams (3-4) add morphology and some robustness to other languages.
    wscale = 1.0 / (n**0.5)
    # A token of length L >= 2 has L 3-grams and L - 1 4-grams (padded); 1-char tokens have none.
    lens = list(map(len, norm))
    n_grams = 2 * sum(lens) - n - lens.count(1)
    cscale = 1.0 / (n_grams**0.5) if n_grams else 0.0
    focus = [(f"b:{prev} {tok}", wscale) for prev, tok in zip(["<s>", *norm], norm, strict=False)]
    owners = list(range(n))

    lowered = " " + " ".join(norm) + " "
    segments = split_segments(raw)
    # Which pieces are real questions: the question sentence, `asks` and n_real_q all need it.
    real = [("?" in sent and is_real_question(sent)) for sent, _ in segments]
    n_real_q = real.count(True)
    qsent, has_q, cut = question_sentence(segments, real)
    if qsent == raw:
        qnorm = norm
    else:
        # The question is usually the turn's last sentence: reuse those normalised tokens.
        qsurface = find_tokens(qsent)
        k = len(qsurface)
        qnorm = norm[n - k :] if k <= n and surface[n - k :] == qsurface else normalise(qsurface)
    words = qnorm if Q_PUNCT.isdisjoint(qnorm) else [t for t in qnorm if t not in Q_PUNCT]
    first = first_words(words, 3)
    f1 = first[0] if first else ""
    n_q = norm.count("?")

    # Hand-made features that generalise across corpora.
    if n_q:
        add(("h:has_q", 1.0))
        add(H_N_Q[min(n_q, 3)])
        if norm[-1] == "?":
            add(("h:ends_q", 1.0))
    if has_q or f1 in WH_WORDS or f1 in AUX_WORDS:
        if f1 in WH_WORDS:
            add(("h:q_wh", 1.0))
        elif f1 in AUX_WORDS:
            add(("h:q_aux", 1.0))
        if first:
            add(("qf:" + " ".join(first[:2]), 1.0))
    # Counting only when a lexicon occurs at all (isdisjoint stops at the first hit).
    n_you = sum(map(YOU_WORDS.__contains__, norm)) if not YOU_WORDS.isdisjoint(norm) else 0
    n_we = sum(map(WE_WORDS.__contains__, norm)) if not WE_WORDS.isdisjoint(norm) else 0
    n_i = sum(map(I_WORDS.__contains__, norm)) if not I_WORDS.isdisjoint(norm) else 0
    n_prod = 0
    if not FOCUS_LEXICON.isdisjoint(norm):
        # Lexicon hits belong to their token (evidence), left to right.
        for i, tok in enumerate(norm):
            if tok in FOCUS_LEXICON:
                if tok in PRODUCT_WORDS:
                    focus.append(("h:product", 1.0))
                    owners.append(i)
                    n_prod += 1
                if tok in COMMIT_WORDS:
                    focus.append(("h:commit", 1.0))
                    owners.append(i)
                if tok in LOGISTICS_WORDS:
                    focus.append(("h:logistics", 1.0))
                    owners.append(i)
    add(H_YOU[min(n_you, 3)])
    add(H_WE[min(n_we, 3)])
    add(H_I[min(n_i, 3)])
    if n_you > n_we + n_i:
        add(("h:you_dominant", 1.0))
    elif n_we + n_i > n_you:
        add(("h:self_dominant", 1.0))
    if n_prod >= 2:
        add(("h:product_many", 1.0))
    if ADVICE_RE.search(lowered):
        add(("h:advice", 1.0))
    if REFLECT_RE.search(lowered):
        add(("h:reflect", 1.0))
    if DIGIT_RE.search(raw) or "%" in norm or "$" in norm or "€" in norm:
        add(("h:number", 1.0))
    if has_q:
        # Who the question is about: a question carrying our side or our product is usually a pitch.
        if not WE_WORDS.isdisjoint(qnorm):
            add(("h:q_we", 1.0))
        if not PRODUCT_WORDS.isdisjoint(qnorm):
            add(("h:q_product", 1.0))
        if not LOGISTICS_WORDS.isdisjoint(qnorm):
            add(("h:q_logistics", 1.0))
    if not has_q and norm[0] in STATEMENT_STARTS:
        add(("h:statement_start_" + norm[0], 1.0))

    # The counterpart's line: whether they asked something, and how much of it the turn echoes back.
    ctx_raw = clean(context) if context else ""
    if ctx_raw:
        # The end of a long counterpart line is what the turn answers.
        ctx_norm = normalise(context_tail(ctx_raw))
        if "?" in ctx_norm:
            add(("h:ctx_q", 1.0))
            # Answering the counterpart's question (telling) vs asking back.
            add(("h:ctx_q_ask", 1.0) if has_q else ("h:ctx_q_tell", 1.0))
        mine = {t for t in norm if t not in STOPWORDS and len(t) > 2}
        if mine:
            # `mine` holds content words only, so its overlap with the context's tokens is its
            # overlap with the context's content words.
            overlap = len(mine.intersection(ctx_norm)) / len(mine)
            add(CTX_OVERLAP[bisect_left(OVERLAP_EDGES, int(overlap * 10))])
        add(CTX_LEN[bisect_left(CTX_LEN_EDGES, len(ctx_norm))])
        xs = 0.5 / (max(len(ctx_norm), 1) ** 0.5)
        weighted = [("x:" + t, xs) for t in dict.fromkeys(ctx_norm)]
    else:
        add(("h:no_ctx", 1.0))
        weighted = []

    # A real question asks; otherwise a sentence without "?" may still request an answer.
    asks = n_real_q > 0
    if not asks:
        for sent, _ in segments:
            if "?" not in sent:
                low = sent.lower()
                if REQUEST_START_RE.match(low) or REQUEST_ANY_RE.search(low):
                    asks = True
                    break
    proposal = False
    if has_q:
        # The question's tokens without "¿" and "?" (`words` also lacks "!").
        ptext = " ".join(words) if "!" not in qnorm else " ".join([t for t in qnorm if t not in ("¿", "?")])
        proposal = PROPOSAL_START_RE.match(ptext) is not None
    if proposal:
        add(("h:proposal_q", 1.0))
    qtext = lowered if qnorm is norm else " " + " ".join(qnorm) + " "
    hand += speech_act_features(lowered, qtext, norm, qnorm, has_q, asks, n_you, n_we)
    focus += hand
    focus += weighted
    owners += [-1] * (len(hand) + len(weighted))
    question = question_features(
        norm, qnorm, words, first, has_q, lowered, qtext, n_q, cut, n_real_q, proposal, qsent
    )
    if proposal:
        question.append(("qh:proposal", 1.0))
    if asks and not has_q:
        question.append(("qh:request", 1.0))
    return Features(norm, wscale, cscale, focus, owners, question, surface, asks)
