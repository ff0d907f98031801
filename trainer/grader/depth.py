"""Discovery depth of a customer-focused turn: what it probes, learned from labelled turns, not word lists.

`situation` (facts about today), `problem` (what is hard, what drives it, why now), `implication` (what
it costs, what happens if nothing changes, who else it touches), `outcome` (what success looks like,
what it would make possible), `personal` (what it means for them: career, reputation, their own stake);
and whether the turn is a `follow_up` asking them to go on about what they just said. Two small
logistic regressions over the classifier's own features, hand-made depth cues of the turn and the persona's
line before it (a bare "tell me more" probes whatever that line was about).
Trained by `training/train_depth.py`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.grader.depth_cues import depth_cues
from trainer.grader.features import Features, extract
from trainer.grader.weights_cache import Packed, load_packed, pack
from trainer.text import content_words

DEPTH_CLASSES = ("situation", "problem", "implication", "outcome", "personal")
FOLLOW_UP_CLASSES = ("no", "yes")
WEIGHTS_PATH = Path(__file__).parent / "weights" / "depth_model.json"

_lock = threading.Lock()
_heads: dict[str, _Head] | None = None


class _Head:
    """One head's classes, biases and weights (a plain class: a dataclass takes ~1 ms to define)."""

    __slots__ = ("bias", "classes", "weights")

    def __init__(self, classes: tuple[str, ...], bias: tuple[float, ...], weights: Packed) -> None:
        self.classes, self.bias, self.weights = classes, bias, weights

    def probs(self, feats: list[tuple[str, float]]) -> list[float]:
        scores = list(self.bias)
        get, values = self.weights.index.get, self.weights.values
        width = range(len(scores))
        for name, value in feats:
            at = get(name)
            if at is not None:
                for k in width:
                    scores[k] += value * values[at + k]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]


@dataclass(frozen=True)
class DepthPrediction:
    depth: str
    follow_up: bool
    probs: dict[str, float]
    follow_up_prob: float


def depth_features(feats: Features, context: str | None) -> list[tuple[str, float]]:
    """The classifier's focus and question features, the content words of the line before, and the
    turn's depth cues (`depth_cues.py`). Not the main clause's head after a condition ("If ..., which?"):
    it decides open vs closed, not what is probed (with it, the check set D read 0.617, not 0.634)."""
    out = feats.focus + [f for f in feats.question if not f[0].startswith("qk:clause_")]
    out.extend(("k:" + word, 0.5) for word in sorted(content_words(context or "")))
    out += depth_cues(feats.norm)
    return out


def heads_from_blob(blob: dict[str, Any]) -> dict[str, _Head]:
    """The two heads of a weights file, packed or as parsed (training passes them so, to cross-validate)."""
    out = {}
    for name, expected in (("depth", DEPTH_CLASSES), ("follow_up", FOLLOW_UP_CLASSES)):
        part = blob[name]
        if tuple(part["classes"]) != expected:
            raise ValueError(f"depth weights: {name} classes {part['classes']} != {expected}; retrain")
        weights = part["weights"]
        packed = weights if isinstance(weights, Packed) else pack(weights, len(expected))
        out[name] = _Head(expected, tuple(part["bias"]), packed)
    return out


def _load() -> dict[str, _Head]:
    global _heads
    if _heads is None:
        with _lock:
            if _heads is None:
                _heads = heads_from_blob(load_packed(WEIGHTS_PATH))
    return _heads


def predict_with(heads: dict[str, _Head], feats: Features, context: str | None) -> DepthPrediction:
    x = depth_features(feats, context)
    probs = heads["depth"].probs(x)
    follow = heads["follow_up"].probs(x)[1]
    best = max(range(len(probs)), key=lambda k: (probs[k], -k))
    return DepthPrediction(
        depth=DEPTH_CLASSES[best],
        follow_up=follow >= 0.5,
        probs={c: round(p, 4) for c, p in zip(DEPTH_CLASSES, probs, strict=True)},
        follow_up_prob=round(follow, 4),
    )


def predict_depth(text: str, context: str | None = None, feats: Features | None = None) -> DepthPrediction:
    """What a (customer-focused) turn probes, given the persona's line before it."""
    return predict_with(_load(), feats if feats is not None else extract(text, context), context)
