"""Train the discovery-depth model and write trainer/grader/weights/depth_model.json.

Trains on training/depth_turns_*.jsonl and training/depth_candidates/depth_turns_*.jsonl (rep turns
labelled with what they probe and whether they follow up on the persona's last line; customer-focused
ones are used), written by fourteen authors who never saw the blind sets in evals/labelled/, the personas'
hidden layers or the model.
Deterministic, like train_classifier.py, whose sparse logistic regression it reuses. The L2 strength
was chosen by grouped CV inside the training turns (1e-4: CV macro-F1 0.803; 1e-3: 0.783; 3e-3: 0.759).
`--by-author` holds out each author's file in turn (leave-one-author-out): the blind sets are written by
new authors, and this CV predicted depth blind F (0.804 against 0.800) where turn-grouped CV said 0.811.

    .venv/bin/python training/train_depth.py [--cv 4 | --by-author] [--report evals/labelled/FILE.jsonl]
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
sys.path.insert(0, str(REPO_ROOT / "training"))

from train_classifier import build_vocab, export, grouped_cv, to_sparse, train_softmax  # noqa: E402

from trainer.evals.calibration import _macro_f1  # noqa: E402
from trainer.evals.labelled_sets import SPEECH_ACT_PATH, depth_training_files  # noqa: E402
from trainer.grader import depth  # noqa: E402
from trainer.grader.features import extract, split_of  # noqa: E402

DEPTH_L2 = 3e-5  # with the depth cues, by leave-one-author-out CV: 0.818 (1e-4: 0.817), eight authors
PRUNE = 6e-2  # larger than the classifier's: 688 KiB, not 1.2 MB, at the same CV (1.9 MiB now)
FOLLOW_L2 = 1e-3
# The two candidate files (other voices; the same subject at all five depths) are trained on since the
# speech-act round: with the new classifier features they lifted depth macro-F1 on the check set D
# (0.596 -> 0.631) and on set A (0.805 -> 0.840), and set A's strong sessions still reach so_i_can
# within 8 turns 19 times of 23 (the pinned floor is 80%).
# Sets 11-13 (three more authors, 1,440 customer turns, depth put in their own words) lifted leave-one-author-
# out CV on the eight earlier authors' turns 0.818 -> 0.835 (each of the eight rose) and D 0.624 -> 0.632.
TRAIN = depth_training_files()
# Sets 14-16 (three more, a fifth of their customer turns asking nothing) lifted it on the eleven authors
# before them 0.819 -> 0.831 (nine of the eleven rose); D fell 0.634 -> 0.612 (three turns of 146).
# Sets 17-19 (three more, wording the model reads worst) on the fourteen before them: 0.823 -> 0.827 (ten of
# fourteen rose); D 0.612 -> 0.619.
# Each round's authors, so that --by-author also scores the authors before them (the figure it chose on).
ROUNDS = (
    ("sets 11-13", {"depth_turns_11.jsonl", "depth_turns_12.jsonl", "depth_turns_13.jsonl"}),
    ("sets 14-16", {"depth_turns_14.jsonl", "depth_turns_15.jsonl", "depth_turns_16.jsonl"}),
    ("sets 17-19", {"depth_turns_17.jsonl", "depth_turns_18.jsonl", "depth_turns_19.jsonl"}),
)


def load_speech_acts(path: Path = SPEECH_ACT_PATH) -> list[dict[str, Any]]:
    """The speech-act turns' depth labels, train split only (as the classifier), for `--speech-acts`.

    Not trained on by default: on their own they lifted D to 0.626 and A to 0.822 (less than the
    candidate files), together with the candidates 0.623 / 0.825, and they read "What's on your plate
    this quarter?" as a problem question, which opens a layer on the first turn of a pinned session."""
    return [r for r in load(path) if split_of("sales:" + r["text"]) == "train"]


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            row = json.loads(raw)
            row["group"] = f"{path.name}:{number}"
            rows.append(row)
    return rows


def fit(rows: list[dict[str, Any]], feats: list[list[tuple[str, float]]], args) -> dict[str, Any]:
    vocab = build_vocab(feats)
    x = to_sparse(feats, vocab)
    y = np.array([depth.DEPTH_CLASSES.index(r["depth"]) for r in rows])
    counts = np.bincount(y, minlength=len(depth.DEPTH_CLASSES)).astype(float)
    balance = (counts.sum() / (len(counts) * np.maximum(counts, 1)))[y]
    dw, db = train_softmax(x, y, balance, len(depth.DEPTH_CLASSES), args.depth_l2)
    fy = np.array([int(bool(r["follow_up"])) for r in rows])
    fw, fb = train_softmax(x, fy, np.ones(len(rows)), 2, args.follow_l2)
    return {
        "meta": {"format": 1, "n_train": len(rows), "depth_l2": args.depth_l2, "follow_l2": args.follow_l2},
        "depth": export(vocab, dw, db, depth.DEPTH_CLASSES, args.prune),
        "follow_up": export(vocab, fw, fb, depth.FOLLOW_UP_CLASSES, args.prune),
    }


def predict(blob: dict[str, Any], rows: list[dict[str, Any]]) -> list[depth.DepthPrediction]:
    heads = depth.heads_from_blob(blob)
    return [depth.predict_with(heads, extract(r["text"], r["context"]), r["context"]) for r in rows]


def report(title: str, rows: list[dict[str, Any]], preds: list[depth.DepthPrediction]) -> str:
    gold = [r["depth"] for r in rows]
    got = [p.depth for p in preds]
    f1 = _macro_f1(gold, got, depth.DEPTH_CLASSES)
    follow = sum(bool(r["follow_up"]) == p.follow_up for r, p in zip(rows, preds, strict=True)) / len(rows)
    per = Counter((g, p) for g, p in zip(gold, got, strict=True))
    recall = ", ".join(f"{c} {per[(c, c)]}/{sum(1 for g in gold if g == c)}" for c in depth.DEPTH_CLASSES)
    return f"{title}: n={len(rows)} depth macro-F1 {f1:.3f}  follow-up accuracy {follow:.3f}  ({recall})"


def by_author(rows: list[dict[str, Any]], feats: list[list[tuple[str, float]]], args) -> str:
    """Leave-one-author-out CV: each training file predicted by a model fitted on the others."""
    author_of = [r["group"].rsplit(":", 1)[0] for r in rows]  # the file a turn came from (see `load`)
    preds: list[Any] = [None] * len(rows)
    lines = []
    for author in sorted(set(author_of)):
        held = [i for i, a in enumerate(author_of) if a == author]
        kept = [i for i, a in enumerate(author_of) if a != author]
        blob = fit([rows[i] for i in kept], [feats[i] for i in kept], args)
        for i, p in zip(held, predict(blob, [rows[i] for i in held]), strict=True):
            preds[i] = p
        lines.append(report(f"  {author} held out", [rows[i] for i in held], [preds[i] for i in held]))
    later: set[str] = set()
    for name, files in reversed(ROUNDS):  # the figure each round was chosen on: the authors before it
        later |= files
        earlier = [i for i, a in enumerate(author_of) if a not in later]
        if len(earlier) < len(rows):
            title = f"  the authors before {name}"
            lines.insert(0, report(title, [rows[i] for i in earlier], [preds[i] for i in earlier]))
    quiet = [i for i, r in enumerate(rows) if not r.get("question")]  # reflections, summaries, echoes
    lines.insert(0, report("  turns asking nothing", [rows[i] for i in quiet], [preds[i] for i in quiet]))
    return "\n".join([report("leave-one-author-out CV", rows, preds), *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, action="append", help="training turns (default: all of them)")
    parser.add_argument("--out", type=Path, default=depth.WEIGHTS_PATH)
    parser.add_argument("--depth-l2", type=float, default=DEPTH_L2)
    parser.add_argument("--follow-l2", type=float, default=FOLLOW_L2)
    parser.add_argument("--prune", type=float, default=PRUNE, help="drop weights smaller than this")
    parser.add_argument("--cv", type=int, default=0, help="only report K-fold CV inside train")
    parser.add_argument("--by-author", action="store_true", help="only report leave-one-author-out CV")
    parser.add_argument("--train-also", type=Path, action="append", default=[], help="more training turns")
    parser.add_argument("--report", type=Path, action="append", default=[], help="labelled sets to score")
    parser.add_argument("--speech-acts", action="store_true", help="also train on the speech-act turns")
    args = parser.parse_args(argv)

    files = [*(args.train or TRAIN), *args.train_also]
    rows = [r for path in files for r in load(path)]
    if args.speech_acts:
        rows += load_speech_acts()
    rows = [r for r in rows if r["focus"] == "customer"]
    feats = [depth.depth_features(extract(r["text"], r["context"]), r["context"]) for r in rows]
    print(f"customer turns: {len(rows)} {dict(Counter(r['depth'] for r in rows))}")
    if args.by_author:
        print(by_author(rows, feats, args))
        return 0
    if args.cv:
        preds = grouped_cv(
            rows, feats, args.cv, lambda rs, fs: fit(rs, fs, args), lambda blob, rs, _fs: predict(blob, rs)
        )
        print(report(f"{args.cv}-fold CV inside train", rows, preds))
        return 0
    blob = fit(rows, feats, args)
    for path in args.report:
        scored = [r for r in load(path) if r["focus"] == "customer"]
        print(report(f"{path.name} (customer turns)", scored, predict(blob, scored)))
    if args.report:
        return 0  # a scoring run writes nothing
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(blob, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
