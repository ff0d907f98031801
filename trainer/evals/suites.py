"""Eval suites: scripted trainee turns (or recorded transcripts) with expectations, as YAML files.

A suite is a YAML file in evals/suites/. Each case names a scenario and the rep's lines (session case),
a transcript to grade (grader case), or a folder of blind scripts (blind-set case, played with the offline
voice, held to shares of sessions per kind), and what must hold: layers opened or kept closed by turn k, how
the meeting ends, score ranges, per-turn labels, and what the persona must never say. `runner.py` plays
them; `checks.py` compares what happened with what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from trainer.datafiles import CatalogError, parse_model
from trainer.rubrics import SOURCE_TREE
from trainer.schema import EndReason, Focus, Move, QuestionKind, Strict

Check = Literal["locked_facts", "breaking_character", "coaching", "prompt_leak"]
ALL_CHECKS: list[Check] = ["locked_facts", "breaking_character", "coaching", "prompt_leak"]


class LayerOpen(Strict):
    layer: str
    by_turn: int = Field(ge=0, description="Open after this many rep turns at the latest.")


class LayerClosed(Strict):
    layer: str = Field(description="A layer id, or 'all'.")
    through_turn: int | None = Field(
        default=None, ge=0, description="Still closed after this turn (default: end)."
    )


class TurnExpect(Strict):
    turn: int = Field(ge=1, description="The rep's turn, counting from 1.")
    focus: Focus | None = None
    question: QuestionKind | Literal["none"] | None = None
    move: Move | None = None


class SetTarget(Strict):
    """A share of a blind set's sessions of one kind: "strong sessions reach so_i_can within 8 turns"."""

    kind: Literal["strong", "mediocre", "pitchy", "pitch_question", "all"]
    measure: Literal[
        "so_i_can",
        "so_i_can_within_8",
        "over_there_or_deeper",
        "opened_any",
        "opened_nothing",
        "passed",
        "repeats_a_sentence",
    ]
    at_least: float | None = Field(default=None, ge=0, le=1)
    at_most: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_bound(self) -> SetTarget:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least or at_most (a share of sessions, 0 to 1)")
        return self


class Expect(Strict):
    discovery: list[SetTarget] = Field(
        default_factory=list, description="Blind-set cases: shares of sessions per kind."
    )
    unlocked: list[LayerOpen] = Field(default_factory=list)
    locked: list[LayerClosed] = Field(default_factory=list)
    ended: bool | None = None
    end_reason: EndReason | None = None
    scores: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="overall or a dimension -> [min, max]."
    )
    labels: list[TurnExpect] = Field(default_factory=list)
    never: list[Check] = Field(default_factory=lambda: list(ALL_CHECKS))
    never_says: list[str] = Field(default_factory=list, description="Phrases the persona must not say.")
    max_replaced: int | None = Field(
        default=None, ge=0, description="Model replies replaced by authored lines."
    )
    max_unscored: int | None = Field(default=None, ge=0, description="Turns the judge could not label.")


class Case(Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    description: str = ""
    scenario: str | None = None
    seed: int = 1
    turns: list[str] | None = None
    script: str | None = Field(default=None, description="A file of rep lines, relative to the suite's repo.")
    transcript: str | None = Field(default=None, description="A transcript to grade (grader case).")
    blind_set: str | None = Field(
        default=None, description="A folder of scripts with manifest.jsonl, played offline (blind-set case)."
    )
    judge: Literal["offline", "llm"] = "offline"
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_source(self) -> Case:
        given = [name for name in ("turns", "script", "transcript", "blind_set") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of turns, script, transcript or blind_set")
        if self.expect.discovery and not self.blind_set:
            raise ValueError("expect.discovery is for blind_set cases")
        if not self.transcript and not self.blind_set and not self.scenario:
            raise ValueError("a session case needs a scenario")
        return self


class Suite(Strict):
    suite: str = Field(pattern=r"^[a-z0-9_-]+$")
    description: str = ""
    cases: list[Case] = Field(min_length=1)


def load_suites(paths: Sequence[Path]) -> list[tuple[Suite, Path]]:
    """Suite files (folders: every *.yaml in them), validated; errors name file, line and field."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.yaml"))
        elif path.is_file():
            files.append(path)
        else:
            raise CatalogError(path, "no such suite file or folder")
    if not files:
        raise CatalogError(paths[0] if paths else Path("."), "no suite files (*.yaml) found")
    return [(parse_model(Suite, file), file) for file in files]


def suite_base(path: Path) -> Path:
    """Relative paths in a suite resolve from the repo holding it (the folder above evals/)."""
    for parent in path.resolve().parents:
        if parent.name == "evals":
            return parent.parent
    return SOURCE_TREE


def case_lines(case: Case, suite_path: Path) -> list[str]:
    if case.turns is not None:
        return [t.strip() for t in case.turns if t.strip()]
    path = suite_base(suite_path) / str(case.script)
    if not path.is_file():
        raise CatalogError(suite_path, f"script {case.script} not found", field=f"cases.{case.id}.script")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
