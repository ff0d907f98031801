"""Train the per-turn focus and question classifiers and write trainer/weights/turn_model.json.

Reproducible: no randomness beyond a fixed seed, features in sorted order, full-batch optimisation.
Reads AnnoMI and PersuasionForGood from ../shared/data (override with --data) and the project's own
sales turns from training/sales_turns.jsonl; trains on the "train" split only so the held-out
numbers printed at the end (and by trainer.calibration) stay honest.

    /tmp/venv/bin/python training/train_classifier.py [--data DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from trainer import turn_model  # noqa: E402
from trainer.calibration import calibrate, format_table, load_annomi, load_persuasion, load_sales  # noqa: E402
from trainer.turn_features import FOCUS_CLASSES, QUESTION_CLASSES, extract  # noqa: E402

SEED = 13
# Per-corpus sample weights: the sales turns are few but closest to the real use.
CORPUS_WEIGHT = {"annomi": 1.0, "persuasionforgood": 0.7, "sales": 3.0}
FOCUS_L2 = 3e-4
QUESTION_L2 = 1e-3
MIN_DF = {
    "w:": 2,
    "b:": 2,
    "c:": 3,
    "h:": 1,
    "x:": 3,
    "qf": 2,
    "qw": 2,
    "qb": 2,
    "qt": 2,
    "qe": 1,
    "qh": 1,
    "qp": 1,
    "qc": 1,
}
PRUNE = 2e-3  # weights smaller than this (after centring) are dropped from the shipped file
DECIMALS = 4


class Sparse:
    """Minimal CSR matrix (no scipy in the venv): enough for X @ W and X.T @ G."""

    def __init__(self, rows: list[list[tuple[int, float]]], n_cols: int) -> None:
        self.n_rows = len(rows)
        self.n_cols = n_cols
        self.row_ids = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        self.cols = np.array([c for r in rows for c, _ in r], dtype=np.int64)
        self.vals = np.array([v for r in rows for _, v in r], dtype=np.float64)

    def dot(self, w: np.ndarray) -> np.ndarray:
        contrib = self.vals[:, None] * w[self.cols]
        return np.stack(
            [np.bincount(self.row_ids, contrib[:, k], minlength=self.n_rows) for k in range(w.shape[1])], 1
        )

    def tdot(self, g: np.ndarray) -> np.ndarray:
        contrib = self.vals[:, None] * g[self.row_ids]
        return np.stack(
            [np.bincount(self.cols, contrib[:, k], minlength=self.n_cols) for k in range(g.shape[1])], 1
        )


def build_vocab(feature_lists: list[list[tuple[str, float]]]) -> list[str]:
    """Keep features seen in enough training turns (per family), in sorted order for determinism."""
    df: Counter[str] = Counter()
    for feats in feature_lists:
        df.update({name for name, _ in feats})
    return sorted(name for name, count in df.items() if count >= MIN_DF.get(name[:2], 2))


def to_sparse(feature_lists: list[list[tuple[str, float]]], vocab: list[str]) -> Sparse:
    index = {name: i for i, name in enumerate(vocab)}
    rows = [[(index[n], v) for n, v in feats if n in index] for feats in feature_lists]
    return Sparse(rows, len(vocab))


def train_softmax(
    x: Sparse, y: np.ndarray, sample_w: np.ndarray, n_classes: int, l2: float, epochs: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch Adam on weighted multinomial log-loss + L2; deterministic."""
    rng = np.random.default_rng(SEED)
    w = rng.normal(0.0, 1e-3, size=(x.n_cols, n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    sw = sample_w / sample_w.sum()
    m_w = np.zeros_like(w)
    v_w = np.zeros_like(w)
    m_b = np.zeros_like(b)
    v_b = np.zeros_like(b)
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for t in range(1, epochs + 1):
        logits = x.dot(w) + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None]
        grad_w = x.tdot(g) + l2 * w
        grad_b = g.sum(axis=0)
        for param, grad, m, v in ((w, grad_w, m_w, v_w), (b, grad_b, m_b, v_b)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w, b


def export(vocab: list[str], w: np.ndarray, b: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    """Centre each feature's weights across classes (softmax is invariant), prune tiny ones, round."""
    w = w - w.mean(axis=1, keepdims=True)
    b = b - b.mean()
    weights = {}
    for name, row in zip(vocab, w, strict=True):
        if np.abs(row).max() >= PRUNE:
            weights[name] = [round(float(v), DECIMALS) for v in row]
    return {"classes": list(classes), "bias": [round(float(v), DECIMALS) for v in b], "weights": weights}


def class_balance(y: np.ndarray, corpus: list[str], n_classes: int, power: float) -> np.ndarray:
    """Per-row weight: corpus weight x (inverse class frequency within the corpus) ** power."""
    out = np.zeros(len(y))
    for name in set(corpus):
        idx = np.array([i for i, c in enumerate(corpus) if c == name])
        counts = np.bincount(y[idx], minlength=n_classes).astype(float)
        inv = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0) ** power
        out[idx] = CORPUS_WEIGHT[name] * inv[y[idx]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--sales", type=Path, default=REPO_ROOT / "training" / "sales_turns.jsonl")
    parser.add_argument("--out", type=Path, default=turn_model.WEIGHTS_PATH)
    parser.add_argument("--focus-l2", type=float, default=FOCUS_L2)
    parser.add_argument("--question-l2", type=float, default=QUESTION_L2)
    parser.add_argument("--balance", type=float, default=0.25, help="power of inverse class frequency")
    args = parser.parse_args(argv)

    rows = load_annomi(args.data) + load_persuasion(args.data) + load_sales(args.sales)
    train = [r for r in rows if r["split"] == "train"]
    print(f"rows: {len(rows)} (train {len(train)}) from {Counter(r['corpus'] for r in rows)}")
    feats = [extract(r["text"], r["context"]) for r in train]

    # Focus model.
    f_lists = [f.focus for f in feats]
    f_vocab = build_vocab(f_lists)
    fx = to_sparse(f_lists, f_vocab)
    fy = np.array([FOCUS_CLASSES.index(r["focus"]) for r in train])
    corpus = [r["corpus"] for r in train]
    fw, fb = train_softmax(fx, fy, class_balance(fy, corpus, 3, args.balance), 3, args.focus_l2)
    focus_blob = export(f_vocab, fw, fb, FOCUS_CLASSES)

    # Question model: only rows whose none/open/closed status is known.
    q_rows = [(r, f) for r, f in zip(train, feats, strict=True) if r["question"] != "unknown"]
    q_lists = [f.question for _, f in q_rows]
    q_vocab = build_vocab(q_lists)
    qx = to_sparse(q_lists, q_vocab)
    qy = np.array([QUESTION_CLASSES.index(r["question"] or "none") for r, _ in q_rows])
    q_corpus = [r["corpus"] for r, _ in q_rows]
    qw, qb = train_softmax(qx, qy, class_balance(qy, q_corpus, 3, 0.0), 3, args.question_l2)
    question_blob = export(q_vocab, qw, qb, QUESTION_CLASSES)

    blob = {
        "meta": {
            "format": 1,
            "trained_on": sorted({r["corpus"] for r in train}),
            "n_train": len(train),
            "focus_l2": args.focus_l2,
            "question_l2": args.question_l2,
            "balance": args.balance,
            "corpus_weight": CORPUS_WEIGHT,
        },
        "focus": focus_blob,
        "question": question_blob,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(blob, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB): "
        f"{len(focus_blob['weights'])}/{len(f_vocab)} focus features, "
        f"{len(question_blob['weights'])}/{len(q_vocab)} question features"
    )

    if args.out.resolve() == turn_model.WEIGHTS_PATH.resolve():
        turn_model.reset_cache()
        print(format_table(calibrate(args.data, args.sales)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
