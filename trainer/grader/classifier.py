"""Offline per-turn classifier: where a sales rep's turn points (customer / pitch / neutral) and
what kind of question it asks (open / closed / none).

Two small multinomial logistic regressions trained by `training/train_classifier.py`; inference
is pure Python (no numpy) so the grader stays cheap, deterministic and importable anywhere.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.grader.features import FOCUS_CLASSES, QUESTION_CLASSES, Features, extract, token_grams
from trainer.grader.lexicons import word_set
from trainer.grader.weights_cache import Packed, load_packed, pack

WEIGHTS_PATH = Path(__file__).parent / "weights" / "turn_model.json"

_lock = threading.Lock()
_model: _Model | None = None


@dataclass(frozen=True)
class TurnPrediction:
    """One turn's classification; `evidence` lists the words of the turn that drove `focus`."""

    focus: str  # "customer" | "pitch" | "neutral"
    probs: dict[str, float]  # focus -> probability, sums to 1
    question: str | None  # "open" | "closed" | None
    evidence: list[str] = field(default_factory=list)
    question_probs: dict[str, float] = field(default_factory=dict)  # "none" | "open" | "closed"
    # The turn's features, so the depth model reuses them instead of extracting them again.
    features: Features | None = field(default=None, repr=False, compare=False)

    @property
    def confidence(self) -> float:
        """Probability of the predicted focus."""
        return self.probs[self.focus]


class _Linear:
    """One head: feature `name`'s weights (one per class) are `values[index[name]:][:3]`.

    The model's holders are plain classes: a dataclass takes about 1 ms to define, at every start."""

    __slots__ = ("bias", "classes", "index", "values")

    def __init__(self, classes: tuple[str, ...], bias: tuple[float, ...], packed: Packed) -> None:
        self.classes, self.bias, self.index, self.values = classes, bias, packed.index, packed.values


# A token's word weights and summed character n-gram weights for the three focus classes, flat.
_TokenVector = tuple[float, float, float, float, float, float]


class _Model:
    __slots__ = ("focus", "meta", "question", "token_cache")

    def __init__(self, focus: _Linear, question: _Linear, meta: dict[str, Any]) -> None:
        self.focus, self.question, self.meta = focus, question, meta
        # token -> its _TokenVector (word weights, summed char n-gram weights); filled lazily, bounded.
        self.token_cache: dict[str, _TokenVector] = {}


def _linear(blob: dict[str, Any], expected: tuple[str, ...]) -> _Linear:
    classes = tuple(blob["classes"])
    if classes != expected:
        raise ValueError(
            f"weights classes {classes} != {expected}; retrain with training/train_classifier.py"
        )
    weights = blob["weights"]
    packed = weights if isinstance(weights, Packed) else pack(weights, len(classes))
    return _Linear(classes, tuple(blob["bias"]), packed)


def model_from_blob(blob: dict[str, Any]) -> _Model:
    """A model from the parsed weights file, its heads' weights packed or not (training passes them as
    parsed, for cross-validation)."""
    return _Model(
        focus=_linear(blob["focus"], FOCUS_CLASSES),
        question=_linear(blob["question"], QUESTION_CLASSES),
        meta=blob.get("meta", {}),
    )


def load_model(path: Path | None = None) -> _Model:
    """Load the weights once per process (module-level cache); `path` forces a fresh load."""
    global _model
    if path is None and _model is not None:
        return _model
    with _lock:
        if path is None and _model is not None:
            return _model
        model = model_from_blob(load_packed(path or WEIGHTS_PATH))
        if path is None:
            _model = model
        return model


def reset_cache() -> None:
    """Forget the cached weights (the training script calls this after writing new ones)."""
    global _model
    with _lock:
        _model = None


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _scores3(lin: _Linear, feats: list[tuple[str, float]]) -> list[float]:
    b0, b1, b2 = lin.bias
    get, v = lin.index.get, lin.values
    for name, value in feats:
        i = get(name)
        if i is not None:
            b0 += value * v[i]
            b1 += value * v[i + 1]
            b2 += value * v[i + 2]
    return [b0, b1, b2]


_QUESTION_OUT: tuple[str | None, ...] = tuple(None if c == "none" else c for c in QUESTION_CLASSES)
# Class names, to build the probability dicts as literals (faster than dict(zip(...))).
_F0, _F1, _F2 = FOCUS_CLASSES
_Q0, _Q1, _Q2 = QUESTION_CLASSES
_TOKEN_CACHE_MAX = 50000


def _token_vector(model: _Model, tok: str) -> _TokenVector:
    """(word weights, summed character n-gram weights) of one token, cached: most turns reuse words.

    One flat tuple rather than two pairs: the hot loop in `_focus_scores` unpacks it in one step.
    """
    cache = model.token_cache
    hit = cache.get(tok)
    if hit is not None:
        return hit
    c0 = c1 = c2 = 0.0
    get, v = model.focus.index.get, model.focus.values
    for gram in token_grams(tok):
        i = get(gram)
        if i is not None:
            c0 += v[i]
            c1 += v[i + 1]
            c2 += v[i + 2]
    i = get("w:" + tok)
    vec = (0.0, 0.0, 0.0, c0, c1, c2) if i is None else (v[i], v[i + 1], v[i + 2], c0, c1, c2)
    if len(cache) >= _TOKEN_CACHE_MAX:
        cache.clear()
    cache[tok] = vec
    return vec


def _focus_scores(model: _Model, feats: Features) -> tuple[list[float], list[list[float]]]:
    """Class scores plus each class's per-token shares of them (for evidence), in one pass.

    The additions happen in a fixed order (tokens, then token-owned features, then the rest, each
    left to right): float addition is not associative, so that order is part of the result.
    """
    s0, s1, s2 = model.focus.bias
    ws, cs = feats.wscale, feats.cscale
    p0: list[float] = []
    p1: list[float] = []
    p2: list[float] = []
    cache = model.token_cache
    for tok in feats.norm:
        vec = cache.get(tok)
        if vec is None:
            vec = _token_vector(model, tok)
        w0, w1, w2, c0, c1, c2 = vec
        a = ws * w0 + cs * c0
        b = ws * w1 + cs * c1
        c = ws * w2 + cs * c2
        p0.append(a)
        p1.append(b)
        p2.append(c)
        s0 += a
        s1 += b
        s2 += c
    get, v = model.focus.index.get, model.focus.values
    other, owners = feats.other, feats.other_owners
    # `extract` lists the token-owned features (bigrams, lexicon hits) first, then the rest.
    n_owned = len(owners) - owners.count(-1)
    for j in range(n_owned):
        name, value = other[j]
        i = get(name)
        if i is None:
            continue
        owner = owners[j]
        a = value * v[i]
        b = value * v[i + 1]
        c = value * v[i + 2]
        s0 += a
        s1 += b
        s2 += c
        if owner > 0 and name[0] == "b":
            # A bigram's weight is shared by both of its words.
            a *= 0.5
            b *= 0.5
            c *= 0.5
            p0[owner - 1] += a
            p1[owner - 1] += b
            p2[owner - 1] += c
        p0[owner] += a
        p1[owner] += b
        p2[owner] += c
    for j in range(n_owned, len(other)):
        name, value = other[j]
        i = get(name)
        if i is not None:
            s0 += value * v[i]
            s1 += value * v[i + 1]
            s2 += value * v[i + 2]
    return [s0, s1, s2], [p0, p1, p2]


# Function words say nothing to a user about why a turn was classified as it was.
_EVIDENCE_SKIP = word_set(
    "the a an to of in on at for and or is it this that be with by as ¿ ! - de la le el"
)


def _evidence(feats: Features, per_class: list[list[float]], k: int, top: int = 3) -> list[str]:
    """Words whose features (word, bigrams, character n-grams, lexicon hits) most favoured class k."""
    pk = per_class[k]
    o1, o2 = [per_class[j] for j in range(3) if j != k]
    # Tokens whose share beats the mean of the other classes', largest margin first, then by
    # position (`mid - pk[i]` is the negated margin).
    scored: list[tuple[float, int]] = []
    for i in range(len(pk)):
        mid = (o1[i] + o2[i]) / 2.0
        if pk[i] > mid:
            scored.append((mid - pk[i], i))
    scored.sort()
    out: list[str] = []
    tokens = feats.tokens
    for _, idx in scored:
        word = tokens[idx]
        if word not in out and word.lower() not in _EVIDENCE_SKIP:
            out.append(word)
            if len(out) == top:
                break
    return out


def _argmax(probs: list[float], start: int = 0) -> int:
    """Index of the largest of probs[start:], the lowest index on ties (like max keyed on (p, -i))."""
    best = start
    for i in range(start + 1, len(probs)):
        if probs[i] > probs[best]:
            best = i
    return best


def _classify(model: _Model, feats: Features) -> tuple[int, list[float], int, list[float], list[list[float]]]:
    """(focus index, focus probs, question index, question probs, per-class per-token focus scores)."""
    scores, per_token = _focus_scores(model, feats)
    fprobs = _softmax(scores)
    k = _argmax(fprobs)
    qprobs = _softmax(_scores3(model.question, feats.question))
    # A real "?" means the turn asks something; the model only decides open vs closed then.
    qk = _argmax(qprobs, 1 if feats.asks else 0)
    return k, fprobs, qk, qprobs, per_token


_EMPTY = TurnPrediction(
    "neutral",
    {"customer": 0.0, "pitch": 0.0, "neutral": 1.0},
    None,
    [],
    {"none": 1.0, "open": 0.0, "closed": 0.0},
)


def predict(text: str, context: str | None = None) -> TurnPrediction:
    """Classify one trainee turn given the counterpart's line before it (or None)."""
    model = load_model()
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if context is not None and not isinstance(context, str):
        context = str(context)
    feats = extract(text, context)
    if not feats.tokens:
        # Nothing readable (empty, whitespace, emoji only): a neutral non-question by definition.
        return TurnPrediction("neutral", dict(_EMPTY.probs), None, [], dict(_EMPTY.question_probs))
    k, fprobs, qk, qprobs, per_token = _classify(model, feats)
    return TurnPrediction(
        focus=FOCUS_CLASSES[k],
        probs={_F0: fprobs[0], _F1: fprobs[1], _F2: fprobs[2]},
        question=_QUESTION_OUT[qk],
        evidence=_evidence(feats, per_token, k),
        question_probs={_Q0: qprobs[0], _Q1: qprobs[1], _Q2: qprobs[2]},
        features=feats,
    )


def predict_many(items: Iterable[tuple[str, str | None]]) -> list[TurnPrediction]:
    """Classify many (text, context) pairs; same results as calling `predict` on each."""
    return [predict(text, context) for text, context in items]
