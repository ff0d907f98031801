"""Check the per-turn classifier against labelled corpora, split exactly as training split them.

`calibrate` reports how well the shipped weights agree with people outside the project (AnnoMI,
PersuasionForGood) and with the project's own sales turns, separately for the part the model
was trained on and the held-out part, so a regression or an overfit shows up as a number. The files
are read by `labelled_sets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.evals.labelled_sets import (
    BLIND_DIR,
    FOCUS_ONLY_CORPUS,
    MORE_VOICES_CORPUS,
    SPEECH_ACT_CORPUS,
    SPLITS,
    load_annomi,
    load_blind,
    load_focus_only,
    load_more_voices,
    load_persuasion,
    load_sales,
    load_speech_acts,
)
from trainer.grader.features import FOCUS_CLASSES


def _macro_f1(gold: list[str], pred: list[str], classes: tuple[str, ...] = FOCUS_CLASSES) -> float:
    f1s = []
    for cls in classes:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom else 0.0)
    return sum(f1s) / len(f1s)


def score_rows(rows: list[dict[str, Any]], shown: list[Any] | None = None) -> dict[str, float | int | None]:
    """Metrics for one corpus part: macro-F1, customer-vs-pitch accuracy, open/closed accuracy, n."""
    from trainer.grader.classifier import predict_many

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
    result.update(_panel_agreement(oc))
    shown = shown if shown is not None else _shown(rows)
    result.update(_as_classify_prints(rows, shown))
    result.update(_focus_panel_agreement(rows, shown))
    return result


def _shown(rows: list[dict[str, Any]]) -> list[Any]:
    """The assessment `trainer classify` prints for each row (every rule applied)."""
    from trainer.grader.assess import assess_turn
    from trainer.schema import Turn

    return [
        assess_turn(r["text"], 1, [Turn(speaker="persona", text=r["context"])] if r["context"] else [])
        for r in rows
    ]


def _against_other_readers(path: Path, rows: list[dict[str, Any]], shown: list[Any]) -> dict[str, Any]:
    """People vs people and classify vs people, where other outside readers labelled the set again."""
    from trainer.evals.second_reader import agreement, second_readers
    from trainer.grader.depth import predict_depth

    others = second_readers(path)
    if not others:
        return {}
    labels = [
        {
            "focus": a.focus,
            "question": a.question,
            "depth": a.depth or predict_depth(r["text"], r["context"]).depth,
        }
        for r, a in zip(rows, shown, strict=True)
    ]
    return agreement(rows, labels, others)


def _as_classify_prints(
    rows: list[dict[str, Any]], shown: list[Any] | None = None
) -> dict[str, float | int | None]:
    """The labels `trainer classify` prints (the full assessment, after every rule), scored strictly:
    a turn counts only when the label shown equals the human one, so a pitch shown as neutral is a miss.
    Where the set labels depth, also depth on the human's customer turns and end to end."""
    shown = shown if shown is not None else _shown(rows)
    gold = [r["focus"] for r in rows]
    cp = [(r, a) for r, a in zip(rows, shown, strict=True) if r["focus"] in ("customer", "pitch")]
    out: dict[str, float | int | None] = {
        "classify_macro_f1": _macro_f1(gold, [a.focus for a in shown]) if rows else None,
        "classify_customer_vs_pitch_strict": sum(a.focus == r["focus"] for r, a in cp) / len(cp)
        if cp
        else None,
    }
    depth_rows = [(r, a) for r, a in zip(rows, shown, strict=True) if "depth" in r]
    if depth_rows:
        from trainer.grader.depth import DEPTH_CLASSES, predict_depth

        human = [(r, a) for r, a in depth_rows if r["focus"] == "customer"]
        # The depth judgement itself, on turns people called customer-focused (as if focus were right).
        probes = [a.depth or predict_depth(r["text"], r["context"]).depth for r, a in human]
        out["depth_macro_f1"] = _macro_f1([r["depth"] for r, _ in human], probes, DEPTH_CLASSES)
        out["n_depth"] = len(human)
        # End to end, as classify prints it: no depth on a turn it does not call customer-focused.
        classes = (*DEPTH_CLASSES, "none")
        out["depth_end_to_end_macro_f1"] = _macro_f1(
            [r["depth"] for r, _ in depth_rows], [a.depth or "none" for _, a in depth_rows], classes
        )
    return out


def _panel_agreement(oc: list[tuple[dict[str, Any], Any]]) -> dict[str, float | int | None]:
    """Open/closed on turns a panel of annotators voted on: the model beside the people themselves.

    `panel_majority_acc` scores the model against the panel's majority; `panel_model_vs_one` is the
    chance it agrees with one annotator drawn at random, the same measure as `panel_pairwise`, the
    chance two different annotators agree.
    """
    panel = [(r, p) for r, p in oc if r.get("votes") and sum(r["votes"].values()) >= 2]
    if not panel:
        return {"n_panel": 0}
    vs_one, pairwise = [], []
    for r, p in panel:
        votes = r["votes"]
        n = sum(votes.values())
        vs_one.append(votes.get(p.question or "", 0) / n)
        pairwise.append(sum(v * (v - 1) for v in votes.values()) / (n * (n - 1)))
    return {
        "n_panel": len(panel),
        "panel_majority_acc": sum(1 for r, p in panel if p.question == r["question"]) / len(panel),
        "panel_model_vs_one": sum(vs_one) / len(panel),
        "panel_pairwise": sum(pairwise) / len(panel),
    }


def _focus_panel_agreement(rows: list[dict[str, Any]], shown: list[Any]) -> dict[str, float | int | None]:
    """Focus on turns a panel voted on: what `classify` prints beside the people themselves.

    Each figure is a chance of agreeing with one annotator drawn at random: for classify, that
    annotator's vote; for people, another annotator's. The strict customer-vs-pitch pair counts only
    votes for customer or pitch, as the strict measure counts only turns labelled so.
    """
    panel = [(r["focus_votes"], a.focus) for r, a in zip(rows, shown, strict=True) if _panel(r)]
    if not panel:
        return {"n_focus_panel": 0}
    vs_one = pairwise = 0.0
    cp_votes = cp_model = cp_people = 0.0
    for votes, label in panel:
        n = sum(votes.values())
        vs_one += votes.get(label, 0) / n
        pairwise += sum(v * (v - 1) for v in votes.values()) / (n * (n - 1))
        for cls in ("customer", "pitch"):
            v = votes.get(cls, 0)
            cp_votes += v
            cp_model += v * (label == cls)
            cp_people += v * (v - 1) / (n - 1)
    return {
        "n_focus_panel": len(panel),
        "focus_panel_model_vs_one": vs_one / len(panel),
        "focus_panel_pairwise": pairwise / len(panel),
        "focus_panel_strict_model_vs_one": cp_model / cp_votes if cp_votes else None,
        "focus_panel_strict_pairwise": cp_people / cp_votes if cp_votes else None,
    }


def _panel(row: dict[str, Any]) -> bool:
    votes = row.get("focus_votes")
    return bool(votes) and sum(votes.values()) >= 2


def calibrate(
    data_dir: Path, sales_path: Path | None = None, blind_dir: Path | None = BLIND_DIR
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per corpus present and per split: {"annomi": {"train": {...}, "held-out": {...}}, ...}.

    Corpora that are absent are left out; the sales set comes from `training/sales_turns.jsonl`, and
    each blind set in `blind_dir` is one more corpus with the single split "blind".
    """
    report: dict[str, dict[str, dict[str, Any]]] = {}
    corpora = {
        "annomi": load_annomi(Path(data_dir)),
        "persuasionforgood": load_persuasion(Path(data_dir)),
        "sales": load_sales(sales_path),
        # Only beside the default sales turns: a caller's own sales file stands alone.
        SPEECH_ACT_CORPUS: load_speech_acts() if sales_path is None else [],
        FOCUS_ONLY_CORPUS: load_focus_only() if sales_path is None else [],
        MORE_VOICES_CORPUS: load_more_voices() if sales_path is None else [],
    }
    for name, rows in corpora.items():
        if not rows:
            continue
        report[name] = {split: score_rows([r for r in rows if r["split"] == split]) for split in SPLITS}
    for path in sorted(Path(blind_dir).glob("*.jsonl")) if blind_dir is not None else []:
        rows = load_blind(path)
        if rows:
            shown = _shown(rows)  # assessed once, scored against the author and against other readers
            report[rows[0]["corpus"]] = {
                "blind": score_rows(rows, shown) | _against_other_readers(path, rows, shown)
            }
    return report


def format_table(report: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The calibration report as a Markdown table (one row per corpus and split)."""

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = [
        "| corpus | split | n | macro-F1 | customer-vs-pitch acc | open/closed acc (n) "
        "| classify macro-F1 | classify customer-vs-pitch (strict) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for corpus, parts in report.items():
        for split, m in parts.items():
            lines.append(
                f"| {corpus} | {split} | {m['n']} | {fmt(m['macro_f1'])} | "
                f"{fmt(m['customer_vs_pitch_acc'])} | {fmt(m['open_closed_acc'])} ({m['n_open_closed']}) | "
                f"{fmt(m.get('classify_macro_f1'))} | {fmt(m.get('classify_customer_vs_pitch_strict'))} |"
            )
    sections = (
        (
            "n_depth",
            "Discovery depth (situation / problem / implication / outcome / personal):",
            "| corpus | split | customer turns | depth macro-F1 (on people's customer turns) "
            "| end to end, as classify prints (6 classes) |",
            ("depth_macro_f1", "depth_end_to_end_macro_f1"),
        ),
        (
            "n_panel",
            "Open/closed on turns a panel of annotators labelled (AnnoMI: ten each):",
            "| corpus | split | turns | model vs panel majority | model vs one annotator "
            "| annotator vs annotator |",
            ("panel_majority_acc", "panel_model_vs_one", "panel_pairwise"),
        ),
        (
            "n_focus_panel",
            "Focus on turns a panel of annotators labelled (AnnoMI: ten each; each figure is the chance of "
            "agreeing with one annotator drawn at random):",
            "| corpus | split | turns | focus, classify vs one annotator | focus, annotator vs annotator "
            "| strict customer-vs-pitch, classify vs one annotator | strict, annotator vs annotator |",
            (
                "focus_panel_model_vs_one",
                "focus_panel_pairwise",
                "focus_panel_strict_model_vs_one",
                "focus_panel_strict_pairwise",
            ),
        ),
    )
    sections += (
        (
            "readers",
            "Blind sets labelled again by other outside readers, who never saw the author's labels (means "
            "over pairs of readers; depth on the first reading's customer turns):",
            "| corpus | split | readers | focus macro-F1, people | focus macro-F1, classify vs people "
            "| open/closed, people | open/closed, classify vs people | depth macro-F1, people "
            "| depth macro-F1, model vs people |",
            tuple(f"{who}_{key}" for key in ("focus", "open_closed", "depth") for who in ("people", "model")),
        ),
    )
    for count, title, header, keys in sections:  # smaller tables, only for corpora that have the labels
        rows = [(c, s, m) for c, parts in report.items() for s, m in parts.items() if m.get(count)]
        if not rows:
            continue
        lines += ["", title, "", header, "|---|---|" + "---:|" * (1 + len(keys))]
        for corpus, split, m in rows:
            lines.append(f"| {corpus} | {split} | {m[count]} | " + " | ".join(fmt(m[k]) for k in keys) + " |")
    return "\n".join(lines)
