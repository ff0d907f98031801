"""Session-level checks of the grader: does `overall` separate good conversations from poor ones?

Two measures: the AUC of `overall` between AnnoMI's high- and low-quality conversations (labelled by
people outside the project), and the ranking of scripted excellent / mediocre / poor sales sessions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.catalog import Catalog
from trainer.evals.labelled_sets import annomi_conversations
from trainer.grader.features import split_of
from trainer.grader.scorecard import grade_transcript
from trainer.roleplay.play import play_lines
from trainer.roleplay.session import Sessions
from trainer.schema import Transcript, Turn

SCRIPT_KINDS = ("discovery", "mediocre", "pitch")


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def annomi_session_auc(data_dir: Path) -> dict[str, dict[str, Any]]:
    """AUC of `overall` (high vs low quality) over all conversations and per train / held-out split."""
    scored: list[tuple[str, str, float]] = []
    for conv_id, quality, turns in annomi_conversations(data_dir):
        card = grade_transcript(Transcript(id=conv_id, turns=[Turn(**t) for t in turns]))
        scored.append((split_of(conv_id), quality, card.overall))
    report: dict[str, dict[str, Any]] = {}
    for part in ("all", "train", "held-out"):
        rows = [(q, s) for split, q, s in scored if part in ("all", split)]
        high = [s for q, s in rows if q == "high"]
        low = [s for q, s in rows if q == "low"]
        report[part] = {
            "auc": auc(high, low),
            "n_high": len(high),
            "n_low": len(low),
            "mean_high": sum(high) / len(high) if high else None,
            "mean_low": sum(low) / len(low) if low else None,
        }
    return report


def scripted_rankings(catalog: Catalog, scripts_dir: Path, seed: int = 1) -> dict[str, dict[str, float]]:
    """Per scenario, the bare-transcript `overall` of its excellent, mediocre and poor scripted sessions."""
    sessions = Sessions(catalog)
    out: dict[str, dict[str, float]] = {}
    for scenario_id in sorted(catalog.scenarios):
        scores = {}
        for kind in SCRIPT_KINDS:
            path = scripts_dir / f"{scenario_id}.{kind}.txt"
            if not path.is_file():
                break
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
            played = play_lines(sessions, scenario_id, lines, seed=seed)
            transcript = Transcript(turns=played.view.turns)
            scores[kind] = grade_transcript(transcript, rubrics=catalog.rubrics).overall
        if len(scores) == len(SCRIPT_KINDS):
            out[scenario_id] = scores
    return out


def format_session_tables(annomi: dict[str, dict[str, Any]], ranking: dict[str, dict[str, float]]) -> str:
    lines = ["| AnnoMI conversations | high / low | mean overall high / low | AUC |", "|---|---:|---:|---:|"]
    for part, m in annomi.items():
        if m["auc"] is None:
            lines.append(f"| {part} | {m['n_high']} / {m['n_low']} | – | – |")
            continue
        means = f"{m['mean_high']:.1f} / {m['mean_low']:.1f}"
        lines.append(f"| {part} | {m['n_high']} / {m['n_low']} | {means} | {m['auc']:.3f} |")
    if ranking:
        lines += [
            "",
            "| scripted sales session | excellent | mediocre | poor | gap |",
            "|---|---:|---:|---:|---:|",
        ]
        for scenario_id, s in ranking.items():
            gap = s["discovery"] - s["pitch"]
            cells = " | ".join(f"{s[kind]:.1f}" for kind in SCRIPT_KINDS)
            lines.append(f"| {scenario_id} | {cells} | {gap:.1f} |")
    return "\n".join(lines)
