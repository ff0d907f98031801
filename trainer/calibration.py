"""Check the per-turn classifier against labelled corpora, split exactly as training split them.

`calibrate` reports how well the shipped weights agree with people outside the project (AnnoMI,
PersuasionForGood) and with the project's own sales turns, separately for the part the model
was trained on and the held-out part, so a regression or an overfit shows up as a number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.turn_features import FOCUS_CLASSES, split_of

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SALES_PATH = REPO_ROOT / "training" / "sales_turns.jsonl"
SPLITS: tuple[str, ...] = ("train", "held-out")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def _annomi_focus(label_act: str | None) -> str:
    return {"question": "customer", "reflection": "customer", "telling": "pitch"}.get(
        label_act or "", "neutral"
    )


def load_annomi(data_dir: Path) -> list[dict[str, Any]]:
    """AnnoMI therapist utterances as rows {text, context, focus, question, split, group}.

    `question` is "open"/"closed"/None; the split is by conversation so no conversation straddles it.
    """
    path = Path(data_dir) / "annomi" / "dev.jsonl"
    if not path.exists():
        return []
    rows = []
    for rec in _read_jsonl(path):
        src = rec.get("source_label") or {}
        question = rec.get("label_open_closed")
        # Ties on open/closed leave the label null although a question exists: unknown, not "none".
        if question is None and str(src.get("question_exists")) == "True":
            question = "unknown"
        rows.append(
            {
                "text": rec.get("text") or "",
                "context": rec.get("prev_text"),
                "focus": _annomi_focus(rec.get("label_act")),
                "question": question,
                "group": rec["conversation_id"],
                "split": split_of(rec["conversation_id"]),
                "corpus": "annomi",
            }
        )
    return rows


def load_persuasion(data_dir: Path) -> list[dict[str, Any]]:
    """PersuasionForGood persuader sentences; no open/closed labels (question is "unknown")."""
    path = Path(data_dir) / "persuasionforgood" / "dev.jsonl"
    if not path.exists():
        return []
    return [
        {
            "text": rec.get("text") or "",
            "context": rec.get("prev_text"),
            "focus": rec["label_focus"],
            "question": "unknown",
            "group": rec["conversation_id"],
            "split": split_of(rec["conversation_id"]),
            "corpus": "persuasionforgood",
        }
        for rec in _read_jsonl(path)
    ]


def load_sales(path: Path | None = None) -> list[dict[str, Any]]:
    """The project's own labelled sales turns; split by a hash of the turn text."""
    path = Path(path) if path is not None else DEFAULT_SALES_PATH
    if not path.exists():
        return []
    return [
        {
            "text": rec["text"],
            "context": rec.get("context"),
            "focus": rec["focus"],
            "question": rec.get("question"),
            "group": rec["text"],
            "split": split_of("sales:" + rec["text"]),
            "corpus": "sales",
        }
        for rec in _read_jsonl(path)
    ]


def annomi_conversations(data_dir: Path) -> list[tuple[str, str, list[dict[str, str]]]]:
    """AnnoMI conversations rebuilt as (conversation_id, quality, turns) for session-level grading.

    Hook for the session AUC (high vs low quality MI, graded via `trainer.grading`). Only therapist
    utterances are stored, so each client line is recovered from the next therapist row's
    `prev_text` (client → "persona", therapist → "trainee"); consecutive client lines that were not
    followed by a therapist utterance are lost, which is fine for a quality signal.
    """
    path = Path(data_dir) / "annomi" / "dev.jsonl"
    if not path.exists():
        return []
    by_conv: dict[str, list[dict[str, Any]]] = {}
    for rec in _read_jsonl(path):
        by_conv.setdefault(rec["conversation_id"], []).append(rec)
    out: list[tuple[str, str, list[dict[str, str]]]] = []
    for conv_id, recs in by_conv.items():
        recs.sort(key=lambda r: r.get("utterance_index", 0))
        turns: list[dict[str, str]] = []
        for rec in recs:
            prev = rec.get("prev_text")
            if prev and rec.get("prev_speaker", "client") != "therapist":
                turns.append({"speaker": "persona", "text": prev})
            turns.append({"speaker": "trainee", "text": rec.get("text") or ""})
        out.append((conv_id, recs[0].get("conversation_quality") or "unknown", turns))
    out.sort(key=lambda item: item[0])
    return out


def _macro_f1(gold: list[str], pred: list[str], classes: tuple[str, ...] = FOCUS_CLASSES) -> float:
    f1s = []
    for cls in classes:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom else 0.0)
    return sum(f1s) / len(f1s)


def score_rows(rows: list[dict[str, Any]]) -> dict[str, float | int | None]:
    """Metrics for one corpus part: macro-F1, customer-vs-pitch accuracy, open/closed accuracy, n."""
    from trainer.turn_model import predict_many

    preds = predict_many((r["text"], r["context"]) for r in rows)
    gold = [r["focus"] for r in rows]
    result: dict[str, float | int | None] = {
        "n": len(rows),
        "macro_f1": _macro_f1(gold, [p.focus for p in preds]) if rows else None,
    }
    cp = [(r, p) for r, p in zip(rows, preds, strict=True) if r["focus"] in ("customer", "pitch")]
    result["customer_vs_pitch_acc"] = (
        sum(
            1
            for r, p in cp
            if ("customer" if p.probs["customer"] >= p.probs["pitch"] else "pitch") == r["focus"]
        )
        / len(cp)
        if cp
        else None
    )
    oc = [(r, p) for r, p in zip(rows, preds, strict=True) if r["question"] in ("open", "closed")]
    # A predicted "no question" on a turn the annotators called open or closed counts as wrong.
    result["open_closed_acc"] = sum(1 for r, p in oc if p.question == r["question"]) / len(oc) if oc else None
    result["n_open_closed"] = len(oc)
    return result


def calibrate(data_dir: Path, sales_path: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per corpus present and per split: {"annomi": {"train": {...}, "held-out": {...}}, ...}.

    Corpora that are absent are left out; the sales set comes from `training/sales_turns.jsonl`.
    """
    report: dict[str, dict[str, dict[str, Any]]] = {}
    corpora = {
        "annomi": load_annomi(Path(data_dir)),
        "persuasionforgood": load_persuasion(Path(data_dir)),
        "sales": load_sales(sales_path),
    }
    for name, rows in corpora.items():
        if not rows:
            continue
        report[name] = {split: score_rows([r for r in rows if r["split"] == split]) for split in SPLITS}
    return report


def format_table(report: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The calibration report as a Markdown table (one row per corpus and split)."""

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = [
        "| corpus | split | n | macro-F1 | customer-vs-pitch acc | open/closed acc (n) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for corpus, parts in report.items():
        for split, m in parts.items():
            lines.append(
                f"| {corpus} | {split} | {m['n']} | {fmt(m['macro_f1'])} | "
                f"{fmt(m['customer_vs_pitch_acc'])} | {fmt(m['open_closed_acc'])} ({m['n_open_closed']}) |"
            )
    return "\n".join(lines)
