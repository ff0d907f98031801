"""Other outside readers' labels for the blind sets: how often people agree, beside the model.

A model's figure means little without its ceiling. `evals/labelled/second_reader/<set>.<reader>.jsonl`
holds, by line of the blind set, the labels another outside reader gave the same turns without seeing
the author's. `agreement` scores every pair of readers and the labels `classify` shows against each.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

from trainer.evals.calibration import _macro_f1
from trainer.grader.depth import DEPTH_CLASSES
from trainer.grader.features import FOCUS_CLASSES


def second_readers(blind_path: Path) -> list[dict[int, dict[str, Any]]]:
    """Each other reader's labels of one blind set, keyed by its line number (1-based)."""
    folder = blind_path.parent / "second_reader"
    readers = []
    for path in sorted(folder.glob(f"{blind_path.stem}.*.jsonl")):
        labels: dict[int, dict[str, Any]] = {}
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if raw.strip():
                rec = json.loads(raw)
                if not isinstance(rec.get("line"), int):
                    raise ValueError(f"{path}:{number}: field 'line' must be the blind set's line number")
                labels[rec["line"]] = rec
        readers.append(labels)
    return readers


def _f1(pairs: list[tuple[str, str]], classes: tuple[str, ...]) -> float | None:
    return _macro_f1([g for g, _ in pairs], [p for _, p in pairs], classes) if pairs else None


def _question(value: Any) -> str:
    return "none" if value in (None, "none", "null") else str(value)


def _measures(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The label pairs two readings of one turn give, per measure (absent labels give none)."""
    out: dict[str, list[tuple[str, str]]] = {"focus": [], "open_closed": [], "depth": []}
    if a.get("focus") and b.get("focus"):
        out["focus"].append((a["focus"], b["focus"]))
    if "question" in a and "question" in b and _question(a["question"]) != "none":
        # As in calibrate: "no question" where the first reading found one counts as a disagreement.
        out["open_closed"].append((_question(a["question"]), _question(b["question"])))
    if a.get("depth") in DEPTH_CLASSES and b.get("depth"):
        out["depth"].append((a["depth"], b["depth"]))
    return out


def _score(pairs_by_turn: list[dict[str, list[tuple[str, str]]]]) -> dict[str, float | None]:
    pairs: dict[str, list[tuple[str, str]]] = {"focus": [], "open_closed": [], "depth": []}
    for one in pairs_by_turn:
        for key, found in one.items():
            pairs[key].extend(found)
    oc = pairs["open_closed"]
    return {
        "focus": _f1(pairs["focus"], FOCUS_CLASSES),
        "open_closed": sum(g == p for g, p in oc) / len(oc) if oc else None,
        "depth": _f1(pairs["depth"], DEPTH_CLASSES),
    }


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def agreement(
    first: list[dict[str, Any]], shown: list[dict[str, Any]], others: list[dict[int, dict[str, Any]]]
):
    """People vs people and `classify` vs people on one blind set (means over pairs of readers).

    `first` holds the author's labels and `shown` what classify prints, one per line of the set;
    depth is compared on turns the first reading of the pair calls customer-focused.
    """
    readings = [dict(enumerate(first, start=1)), *others]
    people = [
        _score([_measures(a[line], b[line]) for line in a if line in b]) for a, b in combinations(readings, 2)
    ]
    model = [_score([_measures(r[line], shown[line - 1]) for line in r]) for r in readings]
    return {
        "readers": len(readings),
        **{f"people_{key}": _mean([p[key] for p in people]) for key in ("focus", "open_closed", "depth")},
        **{f"model_{key}": _mean([m[key] for m in model]) for key in ("focus", "open_closed", "depth")},
    }
