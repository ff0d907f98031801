"""How far scripted rep conversations get with the personas: the discovery-depth report.

Each script of a blind set (a folder with `manifest.jsonl`: file, scenario, kind, style) is played
through `roleplay.play`, and the report says, per kind (strong, mediocre, pitchy, pitch_question), how
many sessions opened each layer, passed, and had the persona say a sentence twice. These are the
figures the discovery-depth issue is measured by; the sets are written by authors who never saw the
personas' hidden layers, `topics.yaml` or the training turns.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainer.catalog import Catalog
from trainer.datafiles import CatalogError
from trainer.roleplay.play import Played, play_lines
from trainer.roleplay.session import Sessions
from trainer.roleplay.voice import sentence_keys
from trainer.schema import LAYER_ORDER

KINDS = ("strong", "mediocre", "pitchy", "pitch_question")


@dataclass
class ScriptResult:
    file: str
    scenario: str
    kind: str
    style: str
    turns: int
    deepest: str | None  # the deepest layer kind opened, or None
    opened_by: dict[str, int]  # layer kind -> the rep turn that opened it first
    overall: float
    passed: bool
    repeated: list[str] = field(default_factory=list)  # persona sentences said more than once


def repeated_sentences(played: Played) -> list[str]:
    """Persona sentences said more than once in the session (word for word, ignoring spacing)."""
    said = Counter(
        key for turn in played.view.turns if turn.speaker == "persona" for key in sentence_keys(turn.text)
    )
    return sorted(s for s, n in said.items() if n > 1)


def _opened_by(played: Played, catalog: Catalog) -> dict[str, int]:
    persona = catalog.persona(catalog.scenario(played.view.scenario_id).persona)
    kinds: dict[str, int] = {}
    for turn, view in enumerate(played.views):
        for layer_id in view.state.unlocked:
            kinds.setdefault(persona.layer(layer_id).layer, turn)
    return kinds


def play_script(sessions: Sessions, folder: Path, entry: dict[str, Any], seed: int = 1) -> ScriptResult:
    path = folder / entry["file"]
    if not path.is_file():
        raise CatalogError(folder / "manifest.jsonl", f"{entry['file']}: no such script", field="file")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    played = play_lines(sessions, entry["scenario"], lines, seed=seed)
    opened = _opened_by(played, sessions.catalog)
    deepest = max(opened, key=LAYER_ORDER.index) if opened else None
    return ScriptResult(
        file=entry["file"],
        scenario=entry["scenario"],
        kind=entry["kind"],
        style=entry.get("style", ""),
        turns=played.turns_played,
        deepest=deepest,
        opened_by=opened,
        overall=played.scorecard.overall,
        passed=played.scorecard.passed,
        repeated=repeated_sentences(played),
    )


def load_manifest(folder: Path) -> list[dict[str, Any]]:
    path = folder / "manifest.jsonl"
    if not path.is_file():
        raise CatalogError(path, "no manifest.jsonl in the scripts folder")
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CatalogError(path, f"invalid JSON ({exc.msg})", line=number) from None
        missing = [k for k in ("file", "scenario", "kind") if not isinstance(entry.get(k), str)]
        if missing:
            raise CatalogError(path, "expected a string", line=number, field=missing[0])
        entries.append(entry)
    return entries


def discovery_report(catalog: Catalog, folder: Path, seed: int = 1) -> list[ScriptResult]:
    """Play every script of the folder's manifest against its scenario (offline voice)."""
    sessions = Sessions(catalog)
    return [play_script(sessions, folder, entry, seed) for entry in load_manifest(folder)]


def summarise(results: list[ScriptResult], within: int = 8) -> dict[str, dict[str, Any]]:
    """Per kind: sessions, reaching so_i_can (and within `within` turns), over_there or deeper, none
    opened, passed, and sessions with a repeated persona sentence."""
    table: dict[str, dict[str, Any]] = {}
    for kind in [*KINDS, "all"]:
        rows = [r for r in results if kind in ("all", r.kind)]
        if not rows:
            continue
        table[kind] = {
            "sessions": len(rows),
            "so_i_can": sum(r.deepest == "so_i_can" for r in rows),
            f"so_i_can_within_{within}": sum(r.opened_by.get("so_i_can", 99) <= within for r in rows),
            "over_there_or_deeper": sum(r.deepest in ("over_there", "so_i_can") for r in rows),
            "opened_any": sum(r.deepest is not None for r in rows),
            "opened_nothing": sum(r.deepest is None for r in rows),
            "passed": sum(r.passed for r in rows),
            "repeats_a_sentence": sum(bool(r.repeated) for r in rows),
            "mean_overall": round(sum(r.overall for r in rows) / len(rows), 1),
        }
    return table


def format_report(table: dict[str, dict[str, Any]], within: int = 8) -> str:
    columns = [
        ("so_i_can", "so_i_can"),
        (f"so_i_can_within_{within}", f"so_i_can ≤{within} turns"),
        ("over_there_or_deeper", "over_there+"),
        ("opened_nothing", "nothing opened"),
        ("passed", "passed"),
        ("repeats_a_sentence", "repeats a sentence"),
    ]
    lines = [
        "| kind | sessions | " + " | ".join(title for _, title in columns) + " | mean overall |",
        "|---|---:|" + "---:|" * len(columns) + "---:|",
    ]
    for kind, row in table.items():
        cells = " | ".join(f"{row[key]} / {row['sessions']}" for key, _ in columns)
        lines.append(f"| {kind} | {row['sessions']} | {cells} | {row['mean_overall']:.1f} |")
    return "\n".join(lines)


def as_json(results: list[ScriptResult], within: int = 8) -> dict[str, Any]:
    return {"summary": summarise(results, within), "scripts": [asdict(r) for r in results]}
