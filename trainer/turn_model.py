"""Offline per-turn classifier: where a sales rep's turn points (customer / pitch / neutral) and
what kind of question it asks (open / closed / none).

Two small multinomial logistic regressions trained by `training/train_classifier.py`; inference
is pure Python (no numpy) so the grader stays cheap, deterministic and importable anywhere.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.turn_features import FOCUS_CLASSES, QUESTION_CLASSES, Features, extract, token_grams, word_set

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

    @property
    def confidence(self) -> float:
        """Probability of the predicted focus."""
        return self.probs[self.focus]


@dataclass(frozen=True)
class _Linear:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class _Model:
    focus: _Linear
    question: _Linear
    meta: dict[str, Any]
    # token -> (word weights, summed char n-gram weights); filled lazily, bounded.
    token_cache: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)


def _linear(blob: dict[str, Any], expected: tuple[str, ...]) -> _Linear:
    classes = tuple(blob["classes"])
    if classes != expected:
        raise ValueError(
            f"weights classes {classes} != {expected}; retrain with training/train_classifier.py"
        )
    return _Linear(classes, tuple(blob["bias"]), {k: tuple(v) for k, v in blob["weights"].items()})


def load_model(path: Path | None = None) -> _Model:
    """Load the weights once per process (module-level cache); `path` forces a fresh load."""
    global _model
    if path is None and _model is not None:
        return _model
    with _lock:
        if path is None and _model is not None:
            return _model
        with (path or WEIGHTS_PATH).open(encoding="utf-8") as fh:
            blob = json.load(fh)
        model = _Model(
            focus=_linear(blob["focus"], FOCUS_CLASSES),
            question=_linear(blob["question"], QUESTION_CLASSES),
            meta=blob.get("meta", {}),
        )
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
    get = lin.weights.get
    for name, value in feats:
        w = get(name)
        if w is not None:
            b0 += value * w[0]
            b1 += value * w[1]
            b2 += value * w[2]
    return [b0, b1, b2]


_ZERO = (0.0, 0.0, 0.0)
_TOKEN_CACHE_MAX = 50000


def _token_vectors(model: _Model, tok: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(word weights, summed character n-gram weights) of one token, cached: most turns reuse words."""
    cache = model.token_cache
    hit = cache.get(tok)
    if hit is not None:
        return hit
    c0 = c1 = c2 = 0.0
    get = model.focus.weights.get
    for gram in token_grams(tok):
        w = get(gram)
        if w is not None:
            c0 += w[0]
            c1 += w[1]
            c2 += w[2]
    vecs = (get("w:" + tok, _ZERO), (c0, c1, c2))
    if len(cache) >= _TOKEN_CACHE_MAX:
        cache.clear()
    cache[tok] = vecs
    return vecs


def _focus_scores(model: _Model, feats: Features) -> tuple[list[float], list[list[float]]]:
    """Class scores plus each token's share of them (for evidence), in one pass."""
    weights = model.focus.weights
    s0, s1, s2 = model.focus.bias
    ws, cs = feats.wscale, feats.cscale
    per_token: list[list[float]] = []
    for tok in feats.norm:
        wv, cv = _token_vectors(model, tok)
        t = [ws * wv[0] + cs * cv[0], ws * wv[1] + cs * cv[1], ws * wv[2] + cs * cv[2]]
        per_token.append(t)
        s0 += t[0]
        s1 += t[1]
        s2 += t[2]
    get = weights.get
    for (name, value), owner in zip(feats.other, feats.other_owners, strict=True):
        w = get(name)
        if w is None:
            continue
        s0 += value * w[0]
        s1 += value * w[1]
        s2 += value * w[2]
        if owner >= 0:
            t = per_token[owner]
            if name.startswith("b:") and owner > 0:
                # A bigram's weight is shared by both of its words.
                u = per_token[owner - 1]
                for k in range(3):
                    half = 0.5 * value * w[k]
                    t[k] += half
                    u[k] += half
            else:
                t[0] += value * w[0]
                t[1] += value * w[1]
                t[2] += value * w[2]
    return [s0, s1, s2], per_token


# Function words say nothing to a user about why a turn was classified as it was.
_EVIDENCE_SKIP = word_set(
    "the a an to of in on at for and or is it this that be with by as ¿ ! - de la le el"
)


def _evidence(feats: Features, per_token: list[list[float]], k: int, top: int = 3) -> list[str]:
    """Words whose features (word, bigrams, character n-grams, lexicon hits) most favoured class k."""
    scored = []
    for idx, t in enumerate(per_token):
        margin = t[k] - (t[0] + t[1] + t[2] - t[k]) / 2.0
        if margin > 0:
            scored.append((-margin, idx))
    scored.sort()
    out: list[str] = []
    for _, idx in scored:
        word = feats.tokens[idx]
        if word not in out and word.lower() not in _EVIDENCE_SKIP:
            out.append(word)
            if len(out) == top:
                break
    return out


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
        probs = {"customer": 0.0, "pitch": 0.0, "neutral": 1.0}
        return TurnPrediction("neutral", probs, None, [], {"none": 1.0, "open": 0.0, "closed": 0.0})
    scores, per_token = _focus_scores(model, feats)
    fprobs = _softmax(scores)
    k = max(range(3), key=lambda i: (fprobs[i], -i))
    qprobs = _softmax(_scores3(model.question, feats.question))
    # A real "?" means the turn asks something; the model only decides open vs closed then.
    candidates = (1, 2) if feats.asks else (0, 1, 2)
    qk = max(candidates, key=lambda i: (qprobs[i], -i))
    question = None if QUESTION_CLASSES[qk] == "none" else QUESTION_CLASSES[qk]
    return TurnPrediction(
        focus=FOCUS_CLASSES[k],
        probs=dict(zip(FOCUS_CLASSES, fprobs, strict=True)),
        question=question,
        evidence=_evidence(feats, per_token, k),
        question_probs=dict(zip(QUESTION_CLASSES, qprobs, strict=True)),
    )


def predict_many(items: Iterable[tuple[str, str | None]]) -> list[TurnPrediction]:
    """Classify many (text, context) pairs; same results as calling `predict` on each."""
    return [predict(text, context) for text, context in items]
