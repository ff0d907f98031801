"""`trainer grade` and `trainer classify`: score transcripts and label turns with the offline grader.

The grader is pure Python but builds its models on import, so it is imported inside the commands; the
LLM judge (`--judge llm`) and its model client only when asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
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
    from trainer.catalog import CatalogError, catalog_root, load_catalog
    from trainer.grader.scorecard import grade_transcript, require_rep_turns
    from trainer.grader.transcripts import read_transcripts
    from trainer.rubrics import load_rubrics

    relabel = _judge(judge, llm)
    rubrics = load_rubrics(catalog_root(catalog))
    stdin_text = _stdin_text() if "-" in paths else None
    cat = None
    for path in paths:
        transcripts = read_transcripts(path, stdin_text, rep)
        for number, transcript in enumerate(transcripts, start=1):
            source = "<stdin>" if path == "-" else path
            if len(transcripts) > 1:
                source += f": transcript {number}"
            require_rep_turns(transcript, source)
            scenario = None
            if transcript.scenario:
                cat = cat or load_catalog(catalog)
                try:
                    scenario = cat.scenario(transcript.scenario)
                except CatalogError as exc:  # named after the transcript, not the catalog's folder
                    raise UsageError(f"{source}: scenario: {exc.message}") from None
            emit(grade_transcript(transcript, scenario, relabel, rubrics).model_dump())


def _stdin_text() -> str:
    """All of stdin as text; bytes that are not UTF-8 are named as in a file."""
    from trainer.datafiles import TextError, decode_text

    try:
        return decode_text(sys.stdin.buffer.read())
    except TextError as exc:
        raise UsageError(f"<stdin>: {exc}") from None


def _jsonl(path: str) -> Iterator[tuple[str, int, str]]:
    """(source, line number, text) of each line of a file or stdin, read as it comes; a line that is not
    UTF-8 is named with the byte's offset in the input."""
    from trainer.datafiles import TextError, decode_text

    if path == "-":
        source, stream = "<stdin>", sys.stdin.buffer
    else:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"{path}: {'is a folder' if file.is_dir() else 'no such file'}")
        source, stream = path, file.open("rb")
    offset = 0
    try:
        for number, raw in enumerate(stream, start=1):
            try:
                yield source, number, decode_text(raw, offset)
            except TextError as exc:
                raise UsageError(f"{source}: line {number}: {exc}") from None
            offset += len(raw)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


@backend_options(*JUDGE_FLAGS, model_is_judge=True)
def classify(
    llm: LLMFlags,
    path: Annotated[str, typer.Argument(help="JSON Lines file; - or nothing for stdin.")] = "-",
    judge: JudgeOpt = "offline",
    catalog: CatalogOpt = None,
) -> None:
    """Label trainee turns: JSON Lines in ({id, text, context}), JSON Lines out, same order."""
    import json

    from trainer.datafiles import json_problem, load_json
    from trainer.grader.assess import assess_after
    from trainer.rubrics import catalog_root, label_rubrics

    llm_judge = _judge(judge, llm)
    rubrics = label_rubrics(catalog_root(catalog))
    for source, number, raw in _jsonl(path):
        if not raw.strip():
            continue
        try:
            item = load_json(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}: line {number}: {json_problem(exc)}") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise UsageError(f"{source}: line {number}: text: expected a string")
        context = item.get("context")
        if context is not None and not isinstance(context, str):
            raise UsageError(f"{source}: line {number}: context: expected a string or null")
        assessment = assess_after(item["text"], context, rubrics)
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
