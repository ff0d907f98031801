"""`trainer chat` and `trainer run`: play a scenario, live in the terminal or from scripted lines.

The session engine (LangGraph) and the model clients are imported inside the commands, so the rest of
the CLI starts without them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from trainer.cli.console import emit, out, print_card, print_scorecard, usage_json, usage_line
from trainer.cli.options import VOICE_FLAGS, CatalogOpt, LLMFlags, UsageError, backend_options

if TYPE_CHECKING:
    from trainer.catalog import Catalog
    from trainer.llm.config import LLMConfig
    from trainer.roleplay.voice import Voice

DEFAULT_SCENARIO = "vp_budget_review"


def persona_voice(config: LLMConfig, cat: Catalog, case: str | None = None) -> Voice:
    """The persona voice for a backend: authored lines offline, else the LLM voice over its ChatModel."""
    from trainer.llm.cassettes import Cassette, RecordingChatModel
    from trainer.llm.config import chat_model
    from trainer.roleplay.play import build_voice

    model = chat_model(config, case=case)
    if model is not None and config.record:
        name = (case or "session").replace("/", "-")
        model = RecordingChatModel(
            model, Cassette(config.cassettes / "sessions" / f"{name}.jsonl"), case=case
        )
    return build_voice(model, config, cat)


def _lines_from_stdin():
    """Interactive prompt on a terminal; plain lines otherwise (scripts, pipes)."""
    if sys.stdin.isatty():
        while True:
            try:
                yield out.input("[bold cyan]you ›[/bold cyan] ")
            except EOFError:
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


@backend_options(*VOICE_FLAGS)
def chat(
    llm: LLMFlags,
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")] = DEFAULT_SCENARIO,
    resume: Annotated[str | None, typer.Option("--resume", help="Session id to continue.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Fix the persona's line choices.")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Practise a scenario in the terminal; the session is saved and can be resumed."""
    from trainer.catalog import load_catalog
    from trainer.llm.seam import ModelUnavailable
    from trainer.roleplay.session import Sessions, sqlite_checkpointer

    settings = llm.settings()
    cat = load_catalog(catalog)
    voice = persona_voice(settings, cat, case=f"chat/{scenario}")
    sessions = Sessions(cat, voice=voice, checkpointer=sqlite_checkpointer())
    view = sessions.view(resume) if resume else sessions.start(scenario, seed=seed)
    print_card(cat, view.scenario_id)
    persona = cat.persona(cat.scenario(view.scenario_id).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "you"
        out.print(f"[bold]{who}:[/bold] {turn.text}")
    heard: list[str] = []  # this turn's reply as it was printed

    def hear(token: str) -> None:
        heard.append(token)
        out.print(token, end="", markup=False)

    for line in _lines_from_stdin():
        if view.ended:
            break
        if line.strip() in ("/quit", "/exit"):
            out.print(f"[dim]Paused. Resume with: trainer chat --resume {view.id}[/dim]")
            return
        if not line.strip():
            continue
        if not sys.stdin.isatty():
            out.print(f"[bold]you:[/bold] {line}")
        out.print(f"[bold]{persona.name}:[/bold] ", end="")
        replaced = len(view.voice_notes)
        heard.clear()
        try:
            view = sessions.send(view.id, line, on_token=hear)
        except ModelUnavailable as exc:
            out.print()
            out.print(f"[red]{exc}[/red]")
            if not sys.stdin.isatty():  # a script cannot resend the line: stop, resumable
                out.print(f"[dim]Paused. Resume with: trainer chat --resume {view.id}[/dim]")
                raise typer.Exit(1) from None
            continue
        if len(view.voice_notes) > replaced:
            out.print(
                f"\n[dim](the model's reply was replaced by the persona's own line)[/dim] {view.last_reply}",
                end="",
            )
        elif " ".join("".join(heard).split()) != " ".join(view.last_reply.split()):
            # The stream was cut and the retry said it differently: show what the session kept.
            out.print(f"\n[dim](in full)[/dim] {escape(view.last_reply)}", end="")
        out.print(f"  [dim]({view.mood})[/dim]")
    if view.ended:
        print_scorecard(view)
        if usage := usage_line(view):
            out.print(f"[dim]Model use: {usage}[/dim]")
    else:
        out.print(f"[dim]Paused. Resume with: trainer chat --resume {view.id}[/dim]")


def _trainee_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        if not all(isinstance(item, str) for item in data):
            raise UsageError(f"{path}: expected a JSON list of strings")
        lines = [item.strip() for item in data]
    else:
        lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise UsageError(f"{path}: no trainee lines")
    return lines


@backend_options(*VOICE_FLAGS)
def run(
    llm: LLMFlags,
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")],
    trainee: Annotated[Path, typer.Option("--trainee", help="Trainee lines: one per line, or a JSON list.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    catalog: CatalogOpt = None,
) -> None:
    """Play scripted trainee lines against a scenario's persona, then print transcript and scorecard."""
    from trainer.catalog import load_catalog
    from trainer.roleplay.play import play_lines
    from trainer.roleplay.session import Sessions, SessionView

    settings = llm.settings()
    cat = load_catalog(catalog)
    lines = _trainee_lines(trainee)
    sessions = Sessions(cat, voice=persona_voice(settings, cat, case=f"run/{scenario}-{trainee.stem}"))
    played = play_lines(sessions, scenario, lines, seed=seed)
    view, card = played.view, played.scorecard
    if as_json:
        emit(
            {
                "transcript": view.transcript_json(),
                "scorecard": card.model_dump(),
                "persona_state": view.persona_state_json(cat),
                **({"usage": usage_json(view)} if view.usage else {}),
            }
        )
        return
    persona = cat.persona(cat.scenario(scenario).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "Rep"
        out.print(f"[bold]{who}:[/bold] {turn.text}")
    print_scorecard(SessionView(**{**view.__dict__, "scorecard": card}))
    if usage := usage_line(view):
        out.print(f"[dim]Model use: {usage}[/dim]")
