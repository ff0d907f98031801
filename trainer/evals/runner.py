"""Run eval suites on any backend: each case played or graded, concurrently, `repeat` times (pass^k).

Session cases play their lines through `roleplay.play` with the backend's voice; grader cases grade a
transcript, optionally with the LLM judge. Replay pins the rep turns' labels to those recorded.
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
from typing import Any

from pydantic import BaseModel, Field

from trainer.catalog import Catalog
from trainer.datafiles import CatalogError
from trainer.evals.checks import (
    label_failures,
    layer_failures,
    score_failures,
    set_failures,
    speech_failures,
)
from trainer.evals.discovery import discovery_report, summarise
from trainer.evals.suites import Case, Suite, case_lines, suite_base
from trainer.grader.assess import assess_transcript
from trainer.grader.judge import judged, llm_assess
from trainer.grader.scorecard import grade_session
from trainer.grader.transcripts import read_transcripts
from trainer.llm.cassettes import Cassette, CassetteLibrary, RecordingChatModel
from trainer.llm.config import LLMConfig, chat_model
from trainer.llm.seam import ChatModel, ModelUnavailable, ReplayMiss
from trainer.llm.usage import Meter
from trainer.prompts import prompts_root
from trainer.roleplay.play import build_voice, play_lines
from trainer.roleplay.session import Sessions
from trainer.schema import Assessment, Turn


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
            if case.blind_set:
                self._blind_case(case, suite_path, result)
            elif case.transcript:
                self._grade_case(case, suite_path, self.model_for(suite.suite, case.id), result)
            else:
                model = self.model_for(suite.suite, case.id)
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
        scenario = self.catalog.scenario(str(case.scenario))
        persona = self.catalog.persona(scenario.persona)
        labels = self.config.cassettes / suite / f"{case.id}{LABELS}"
        assessor = PinnedAssessor(labels) if self.config.backend == "replay" and labels.is_file() else None
        voice = build_voice(model, self.config, self.catalog)
        sessions = Sessions(self.catalog, voice=voice, assessor=assessor)
        played = play_lines(sessions, scenario.id, case_lines(case, suite_path), seed=case.seed)
        view, views, card = played.view, played.views, played.scorecard
        if self.config.record and model is not None:
            labels.parent.mkdir(parents=True, exist_ok=True)
            recorded = [a.model_dump() for a in view.assessments]
            labels.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.meter.merge(view.usage)
        result.turns = played.turns_played
        result.unlocked = list(view.state.unlocked)
        result.ended, result.reason = view.ended, view.state.reason
        result.scores = {"overall": card.overall, **card.dimensions}
        result.replaced = len(view.voice_notes)
        result.usage = view.usage
        result.transcript = [t.model_dump() for t in view.turns]
        expect = case.expect
        result.failures += layer_failures(expect, views, {layer.id for layer in persona.hidden})
        if expect.ended is not None and view.ended != expect.ended:
            result.failures.append(f"ended: expected {expect.ended}, got {view.ended}")
        if expect.end_reason and view.state.reason != expect.end_reason:
            result.failures.append(f"end_reason: expected {expect.end_reason}, got {view.state.reason}")
        result.failures += score_failures(expect, result.scores)
        result.failures += label_failures(expect, [a.model_dump() for a in view.assessments])
        result.failures += speech_failures(expect, views, persona, prompts_root(self.catalog.root))
        if expect.max_replaced is not None and result.replaced > expect.max_replaced:
            notes = "; ".join(f"turn {n['turn']}: {n['note']}" for n in view.voice_notes[:2])
            result.failures.append(
                f"replaced {result.replaced} model replies (max {expect.max_replaced}): {notes}"
            )

    # ------------------------------------------------------------ blind-set cases

    def _blind_case(self, case: Case, suite_path: Path, result: CaseResult) -> None:
        """Every script of the set, played with the offline voice whatever the backend: what opens is
        the persona's state machine's choice, and 45 sessions per set are too many to record."""
        folder = suite_base(suite_path) / str(case.blind_set)
        scripts = discovery_report(self.catalog, folder, seed=case.seed)
        table = summarise(scripts)
        result.turns = sum(s.turns for s in scripts)
        result.scores, failures = set_failures(case.expect.discovery, table)
        result.failures += failures

    # ------------------------------------------------------------ grader cases

    def _grade_case(self, case: Case, suite_path: Path, model: ChatModel | None, result: CaseResult) -> None:
        path = suite_base(suite_path) / str(case.transcript)
        transcript = read_transcripts(str(path))[0]
        scenario_id = case.scenario or transcript.scenario
        scenario = self.catalog.scenarios.get(scenario_id) if scenario_id else None
        turns = transcript.turns
        ours = scenario.our_names if scenario else ()
        assessments = assess_transcript(turns, rubrics=self.catalog.rubrics, ours=ours)
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
        card = grade_session(
            turns, assessments, scenario=scenario, transcript_id=transcript.id, rubrics=self.catalog.rubrics
        )
        result.turns = len(assessments)
        result.scores = {"overall": card.overall, **card.dimensions}
        result.unscored = sum(1 for a in assessments if a.unscored)
        result.transcript = [t.model_dump() for t in turns]
        result.failures += score_failures(case.expect, result.scores)
        result.failures += label_failures(case.expect, [a.model_dump() for a in assessments])
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
