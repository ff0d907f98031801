"""`trainer grade` and `trainer classify`: score transcripts and label turns with the offline grader.

The grader is pure Python but builds its models on import, so it is imported inside the commands; the
LLM judge (`--judge llm`) and its model client only when asked for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from trainer.cli.console import emit
from trainer.cli.options import JUDGE_FLAGS, CatalogOpt, JudgeOpt, LLMFlags, UsageError, backend_options


@backend_options(*JUDGE_FLAGS, model_is_judge=True)
def grade(
    llm: LLMFlags,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Transcript files (JSON, 'Rep:'/'Customer:' text, named speakers, .vtt); - for stdin."
        ),
    ],
    catalog: CatalogOpt = None,
    judge: JudgeOpt = "offline",
    rep: Annotated[
        str | None,
        typer.Option("--rep", help="For transcripts with named speakers (a call export): the rep's name."),
    ] = None,
) -> None:
    """Print one scorecard JSON object per transcript, in input order."""
    from trainer.catalog import catalog_root, load_catalog
    from trainer.grader.scorecard import grade_transcript
    from trainer.grader.transcripts import read_transcripts
    from trainer.rubrics import load_rubrics

    relabel = _judge(judge, llm)
    rubrics = load_rubrics(catalog_root(catalog))
    stdin_text = sys.stdin.read() if "-" in paths else None
    cat = None
    for path in paths:
        for transcript in read_transcripts(path, stdin_text, rep):
            scenario = None
            if transcript.scenario:
                cat = cat or load_catalog(catalog)
                scenario = cat.scenarios.get(transcript.scenario)
            emit(grade_transcript(transcript, scenario, relabel, rubrics).model_dump())


@backend_options(*JUDGE_FLAGS, model_is_judge=True)
def classify(
    llm: LLMFlags,
    path: Annotated[str, typer.Argument(help="JSON Lines file; - or nothing for stdin.")] = "-",
    judge: JudgeOpt = "offline",
    catalog: CatalogOpt = None,
) -> None:
    """Label trainee turns: JSON Lines in ({id, text, context}), JSON Lines out, same order."""
    from trainer.catalog import catalog_root
    from trainer.grader.assess import assess_turn
    from trainer.rubrics import load_rubrics
    from trainer.schema import Turn

    llm_judge = _judge(judge, llm)
    rubrics = load_rubrics(catalog_root(catalog))
    if path == "-":
        source, lines = "<stdin>", sys.stdin.read().splitlines()
    else:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"{path}: no such file")
        source, lines = path, file.read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}: line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise UsageError(f"{source}: line {number}: text: expected a string")
        context = item.get("context")
        if context is not None and not isinstance(context, str):
            raise UsageError(f"{source}: line {number}: context: expected a string or null")
        earlier = [Turn(speaker="persona", text=context)] if context else []
        assessment = assess_turn(item["text"], len(earlier), earlier, rubrics)
        if llm_judge is not None:
            assessment = llm_judge(assessment, context, f"judge line {number}")
        labels = assessment.labels()
        labels.pop("turn")
        labels.pop("text")
        emit({"id": item.get("id"), **labels})


def _judge(judge: str, llm: LLMFlags):
    """None for the offline classifier; else a function that relabels an assessment with the LLM judge."""
    if judge not in ("offline", "llm"):
        raise UsageError(f"--judge: unknown judge {judge!r} (use offline or llm)")
    if judge == "offline":
        return None
    from trainer.grader.judge import judged, llm_assess
    from trainer.llm.config import chat_model

    settings = llm.settings()
    chat = chat_model(settings, case="classify")
    if chat is None:
        raise UsageError(
            "--judge llm: needs a model (set OPENAI_BASE_URL or OPENAI_API_KEY, or use --replay)"
        )

    def relabel(assessment, context, label):
        verdict = llm_assess(
            assessment.text,
            context,
            chat,
            settings.judge_model,
            temperature=settings.judge_temperature,
            label=label,
        )
        return judged(assessment, verdict)

    return relabel
