"""Eval suites: scripted trainee turns (or recorded transcripts) with expectations, run on any backend.

A suite is a YAML file in evals/suites/. Each case names a scenario and the rep's lines (session case),
or a transcript to grade (grader case), and what must hold: layers opened or kept closed by turn k, how
the meeting ends, score ranges, per-turn labels, and what the persona must never say. Cases run
concurrently; `repeat` reruns each one to measure pass^k (the share of cases that passed every time).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from trainer.catalog import SOURCE_TREE, Catalog, CatalogError, _parse
from trainer.grader.assess import assess_transcript
from trainer.grader.judge import judged, llm_assess
from trainer.grader.scorecard import grade_session
from trainer.grader.transcripts import read_transcripts
from trainer.llm.backends import (
    Cassette,
    CassetteLibrary,
    ChatModel,
    ModelUnavailable,
    RecordingChatModel,
    ReplayMiss,
)
from trainer.llm.config import LLMConfig, chat_model
from trainer.llm.usage import Meter
from trainer.prompts import prompts_root
from trainer.roleplay.llm_voice import LLMVoice
from trainer.roleplay.reply_guard import locked_leaks, phrase_hits, prompt_leak
from trainer.roleplay.session import Sessions, SessionView
from trainer.roleplay.voice import offline_voice
from trainer.schema import Assessment, EndReason, Focus, Move, QuestionKind, Strict, Turn

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


class Expect(Strict):
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
    judge: Literal["offline", "llm"] = "offline"
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_source(self) -> Case:
        given = [name for name in ("turns", "script", "transcript") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of turns, script or transcript")
        if not self.transcript and not self.scenario:
            raise ValueError("a session case needs a scenario")
        return self


class Suite(Strict):
    suite: str = Field(pattern=r"^[a-z0-9_-]+$")
    description: str = ""
    cases: list[Case] = Field(min_length=1)


class CaseResult(BaseModel):
    suite: str
    case: str
    run: int
    passed: bool
    failures: list[str] = Field(default_factory=list)
    error: str | None = None
    turns: int = 0
    unlocked: list[str] = Field(default_factory=list)
    ended: bool | None = None
    reason: str | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    replaced: int = 0
    unscored: int = 0
    usage: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0
    transcript: list[dict[str, str]] = Field(default_factory=list)


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
    return [(_parse(Suite, file), file) for file in files]


def _base(path: Path) -> Path:
    """Relative paths in a suite resolve from the repo holding it (the folder above evals/)."""
    for parent in path.resolve().parents:
        if parent.name == "evals":
            return parent.parent
    return SOURCE_TREE


def _lines(case: Case, suite_path: Path) -> list[str]:
    if case.turns is not None:
        return [t.strip() for t in case.turns if t.strip()]
    path = _base(suite_path) / str(case.script)
    if not path.is_file():
        raise CatalogError(suite_path, f"script {case.script} not found", field=f"cases.{case.id}.script")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Runner:
    """One eval run: the backend, the catalog, a shared cassette library and the usage meter."""

    config: LLMConfig
    catalog: Catalog
    meter: Meter
    library: CassetteLibrary | None = None
    cassettes: dict[str, Cassette] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def model_for(self, suite: str, case: str) -> ChatModel | None:
        """The case's model: replay keyed by case, and a recording starts one fresh cassette per case."""
        name = f"{suite}/{case}"
        model = chat_model(self.config, case=name, cassettes=self.library)
        if model is not None and self.config.record:
            with self.lock:
                if name not in self.cassettes:
                    self.cassettes[name] = Cassette(self.config.cassettes / suite / f"{case}.jsonl")
            model = RecordingChatModel(model, self.cassettes[name], case=name)
        return model

    def run(self, suite: Suite, case: Case, suite_path: Path, run: int) -> CaseResult:
        started = time.perf_counter()
        result = CaseResult(suite=suite.suite, case=case.id, run=run, passed=False)
        try:
            model = self.model_for(suite.suite, case.id)
            if case.transcript:
                self._grade_case(case, suite_path, model, result)
            else:
                self._session_case(suite.suite, case, suite_path, model, result)
        except (ReplayMiss, ModelUnavailable, CatalogError) as exc:
            result.error = str(exc)
        except Exception as exc:  # a bug should fail the case loudly, not stop the other cases
            result.error = f"{type(exc).__name__}: {exc}"
        result.passed = result.error is None and not result.failures
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    # ------------------------------------------------------------ session cases

    def _session_case(
        self, suite: str, case: Case, suite_path: Path, model: ChatModel | None, result: CaseResult
    ) -> None:
        voice = (
            offline_voice
            if model is None
            else LLMVoice(
                model, self.config.voice_model, self.config.temperature, prompts_root(self.catalog.root)
            )
        )
        scenario = self.catalog.scenario(str(case.scenario))
        persona = self.catalog.persona(scenario.persona)
        labels = self.config.cassettes / suite / f"{case.id}{LABELS}"
        assessor = PinnedAssessor(labels) if self.config.backend == "replay" and labels.is_file() else None
        sessions = Sessions(self.catalog, voice=voice, assessor=assessor)
        view = sessions.start(scenario.id, seed=case.seed)
        views = [view]
        for line in _lines(case, suite_path):
            if view.ended:
                break
            view = sessions.send(view.id, line)
            views.append(view)
        card = view.scorecard or grade_session(
            view.turns, view.assessments, scenario=scenario, persona=persona, state=view.state
        )
        if self.config.record and model is not None:
            labels.parent.mkdir(parents=True, exist_ok=True)
            recorded = [a.model_dump() for a in view.assessments]
            labels.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.meter.merge(view.usage)
        result.turns = len(views) - 1
        result.unlocked = list(view.state.unlocked)
        result.ended, result.reason = view.ended, view.state.reason
        result.scores = {"overall": card.overall, **card.dimensions}
        result.replaced = len(view.voice_notes)
        result.usage = view.usage
        result.transcript = [t.model_dump() for t in view.turns]
        expect = case.expect
        result.failures += _layer_failures(expect, views, {layer.id for layer in persona.hidden})
        if expect.ended is not None and view.ended != expect.ended:
            result.failures.append(f"ended: expected {expect.ended}, got {view.ended}")
        if expect.end_reason and view.state.reason != expect.end_reason:
            result.failures.append(f"end_reason: expected {expect.end_reason}, got {view.state.reason}")
        result.failures += _score_failures(expect, result.scores)
        result.failures += _label_failures(expect, [a.model_dump() for a in view.assessments])
        result.failures += self._speech_failures(expect, views, persona)
        if expect.max_replaced is not None and result.replaced > expect.max_replaced:
            notes = "; ".join(f"turn {n['turn']}: {n['note']}" for n in view.voice_notes[:2])
            result.failures.append(
                f"replaced {result.replaced} model replies (max {expect.max_replaced}): {notes}"
            )

    def _speech_failures(self, expect: Expect, views: list[SessionView], persona) -> list[str]:
        failures = []
        root = prompts_root(self.catalog.root)
        for k, view in enumerate(views):
            if k and views[k - 1].turns == view.turns:
                continue
            said = view.turns[-1].text if view.turns[-1].speaker == "persona" else ""
            where = f"turn {k}" if k else "opening"
            if "locked_facts" in expect.never:
                failures += [
                    f"{where}: says locked layer {i}"
                    for i in locked_leaks(said, persona, view.state.unlocked)
                ]
            cats = [c for c in ("breaking_character", "coaching") if c in expect.never]
            failures += [f"{where}: {hit}" for hit in phrase_hits(said, cats, root)]
            if "prompt_leak" in expect.never and prompt_leak(said, root):
                failures.append(f"{where}: repeats the persona instructions")
            low = said.lower()
            failures += [f"{where}: says {p!r}" for p in expect.never_says if p.lower() in low]
        return failures

    # ------------------------------------------------------------ grader cases

    def _grade_case(self, case: Case, suite_path: Path, model: ChatModel | None, result: CaseResult) -> None:
        path = _base(suite_path) / str(case.transcript)
        transcript = read_transcripts(str(path))[0]
        scenario_id = case.scenario or transcript.scenario
        scenario = self.catalog.scenarios.get(scenario_id) if scenario_id else None
        turns = transcript.turns
        assessments = assess_transcript(turns)
        if case.judge == "llm" and model is not None:
            judged_turns = []
            for n, a in enumerate(assessments, start=1):
                context = next((t.text for t in reversed(turns[: a.turn]) if t.speaker == "persona"), None)
                verdict = llm_assess(
                    a.text,
                    context,
                    model,
                    self.config.judge_model,
                    temperature=self.config.judge_temperature,
                    prompts=prompts_root(self.catalog.root),
                    label=f"judge turn {n}",
                )
                if verdict is not None:
                    self.meter.merge(verdict["usage"])
                    result.usage = _add_usage(result.usage, verdict["usage"])
                judged_turns.append(judged(a, verdict))
            assessments = judged_turns
        card = grade_session(turns, assessments, scenario=scenario, transcript_id=transcript.id)
        result.turns = len(assessments)
        result.scores = {"overall": card.overall, **card.dimensions}
        result.unscored = sum(1 for a in assessments if a.unscored)
        result.transcript = [t.model_dump() for t in turns]
        result.failures += _score_failures(case.expect, result.scores)
        result.failures += _label_failures(case.expect, [a.model_dump() for a in assessments])
        if case.expect.max_unscored is not None and result.unscored > case.expect.max_unscored:
            result.failures.append(f"unscored turns: {result.unscored} (max {case.expect.max_unscored})")


LABELS = ".labels.json"  # beside a case's cassette: the rep turns' assessments as recorded


class PinnedAssessor:
    """Replays the assessments recorded with a cassette, so replaying the voice does not hinge on
    today's classifier (the offline run checks that); a rep line that was not recorded fails clearly."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recorded = [Assessment.model_validate(a) for a in json.loads(path.read_text(encoding="utf-8"))]

    def __call__(self, text: str, index: int, earlier: Sequence[Turn]) -> Assessment:
        n = sum(1 for turn in earlier if turn.speaker == "trainee")
        if n >= len(self.recorded) or self.recorded[n].text != text:
            raise ReplayMiss(
                f"replay: {self.path} has no recorded labels for rep turn {n + 1} ({text[:60]!r}); "
                "the case's lines changed, re-record: trainer eval SUITE --record"
            )
        return self.recorded[n]


def _add_usage(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    meter = Meter()
    meter.merge(total)
    meter.merge(more)
    return {m: u.model_dump() for m, u in meter.by_model.items()}


def _at(views: list[SessionView], turn: int | None) -> SessionView:
    return views[-1] if turn is None else views[min(turn, len(views) - 1)]


def _layer_failures(expect: Expect, views: list[SessionView], known: set[str]) -> list[str]:
    failures = []
    for want in expect.unlocked:
        if want.layer not in known:
            failures.append(f"unlocked: persona has no layer {want.layer!r}")
        elif want.layer not in _at(views, want.by_turn).state.unlocked:
            opened = next((k for k, v in enumerate(views) if want.layer in v.state.unlocked), None)
            when = f"opened at turn {opened}" if opened is not None else "never opened"
            failures.append(f"{want.layer}: must be open by turn {want.by_turn}, {when}")
    for closed in expect.locked:
        view = _at(views, closed.through_turn)
        layers = sorted(known) if closed.layer == "all" else [closed.layer]
        upto = f"through turn {closed.through_turn}" if closed.through_turn is not None else "to the end"
        for layer in layers:
            if layer not in known:
                failures.append(f"locked: persona has no layer {layer!r}")
            elif layer in view.state.unlocked:
                failures.append(f"{layer}: must stay closed {upto}, but opened")
    return failures


def _score_failures(expect: Expect, scores: dict[str, float]) -> list[str]:
    failures = []
    for name, (low, high) in expect.scores.items():
        if name not in scores:
            failures.append(f"scores: no dimension {name!r} (have {', '.join(scores)})")
        elif not low <= scores[name] <= high:
            failures.append(f"{name}: {scores[name]:.1f} not in [{low:g}, {high:g}]")
    return failures


def _label_failures(expect: Expect, labels: list[dict[str, Any]]) -> list[str]:
    failures = []
    for want in expect.labels:
        if want.turn > len(labels):
            failures.append(f"labels: turn {want.turn} was never played")
            continue
        got = labels[want.turn - 1]
        for name in ("focus", "question", "move"):
            wanted = getattr(want, name)
            if wanted is None:
                continue
            value = got.get(name) or "none"
            if value != wanted:
                failures.append(f"turn {want.turn} {name}: expected {wanted}, got {value}")
    return failures


class EvalReport(BaseModel):
    backend: str
    started_at: str
    seconds: float
    repeat: int
    results: list[CaseResult]
    usage: dict[str, Any]

    @property
    def cases(self) -> dict[tuple[str, str], list[CaseResult]]:
        grouped: dict[tuple[str, str], list[CaseResult]] = {}
        for r in self.results:
            grouped.setdefault((r.suite, r.case), []).append(r)
        return grouped

    @property
    def failed(self) -> bool:
        return any(not r.passed for r in self.results)

    def summary(self) -> dict[str, Any]:
        cases = self.cases
        always = sum(1 for runs in cases.values() if all(r.passed for r in runs))
        return {
            "cases": len(cases),
            "runs": len(self.results),
            "runs_passed": sum(1 for r in self.results if r.passed),
            f"pass^{self.repeat}": round(always / len(cases), 4) if cases else 0.0,
            "failed_cases": [f"{s}/{c}" for (s, c), runs in cases.items() if not all(r.passed for r in runs)],
        }

    def as_json(self) -> dict[str, Any]:
        return {**self.model_dump(), "summary": self.summary()}


def run_suites(
    suites: list[tuple[Suite, Path]],
    config: LLMConfig,
    catalog: Catalog,
    *,
    repeat: int = 1,
    only: str | None = None,
    on_done: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Run every case `repeat` times, concurrently where the backend allows; results in suite order."""
    started = time.perf_counter()
    library = CassetteLibrary(config.cassettes) if config.backend == "replay" else None
    runner = Runner(config, catalog, Meter(), library)
    jobs = [
        (suite, case, path, run)
        for suite, path in suites
        for case in suite.cases
        if not only or only in (case.id, f"{suite.suite}/{case.id}")
        for run in range(repeat)
    ]
    if not jobs:
        raise CatalogError(suites[0][1], f"no case matches {only!r}")
    workers = 1 if config.backend == "openai" and config.record else config.concurrency

    def play(job: tuple[Suite, Case, Path, int]) -> CaseResult:
        result = runner.run(*job)
        if on_done:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        results = list(pool.map(play, jobs))
    return EvalReport(
        backend=config.describe(),
        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        seconds=round(time.perf_counter() - started, 3),
        repeat=repeat,
        results=results,
        usage=runner.meter.as_json(),
    )
