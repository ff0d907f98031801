"""`trainer chat` and `trainer run`: play a scenario, live in the terminal or from scripted lines.

The session engine (LangGraph) and the model clients are imported inside the commands, so the rest of
the CLI starts without them. `chat` keeps its sessions in the app's database, through the app's own use
cases, so a session started in the browser continues in the terminal and the other way round. What reps
and personas say is printed as plain text, never read as Rich markup.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trainer.cli.console import emit, escape, out, print_card, print_scorecard, usage_json, usage_line
from trainer.cli.options import (
    VOICE_FLAGS,
    CatalogOpt,
    DatabaseOpt,
    LLMFlags,
    UsageError,
    backend_options,
    store_at,
)

if TYPE_CHECKING:
    from trainer.catalog import Catalog
    from trainer.llm.config import LLMConfig
    from trainer.roleplay.session import SessionView
    from trainer.roleplay.voice import Voice
    from trainer.team.app import TrainerApp
    from trainer.team.store import User

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


def _start(app: TrainerApp, scenario_id: str, seed: int | None) -> tuple[User, SessionView]:
    """A new session of the local practice user, stored as one started in the app is."""
    from trainer.team.access import LOCAL_USER

    app.catalog.scenario(scenario_id)  # an unknown id: the catalog's one-line error, with the known ones
    return LOCAL_USER, app.start(LOCAL_USER, f"s:{scenario_id}", seed=seed)


def _resume(app: TrainerApp, session_id: str) -> tuple[User, SessionView]:
    """A saved session and the user it belongs to, wherever it was started: here, or in the app."""
    from trainer.team.access import LOCAL_USER

    view = app.sessions.view(session_id)  # an unknown id: SessionError, one line
    if view.ended:
        return LOCAL_USER, view  # nothing more to say in it: shown with its scorecard
    row = app.store.session(session_id)
    if row is None:  # played through the session graph alone: the store keeps it from now on
        scenario = app.catalog.scenario(view.scenario_id)
        row = app.store.add_session(
            session_id,
            LOCAL_USER.name,
            scenario_id=scenario.id,
            mode="training",
            pass_mark=scenario.pass_mark,
            title=scenario.title,
        )
    owner = app.store.user(row.username) or LOCAL_USER
    return owner, app.playable_view(owner, session_id)  # ended in the app: the app's one-line refusal


@backend_options(*VOICE_FLAGS)
def chat(
    llm: LLMFlags,
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")] = DEFAULT_SCENARIO,
    resume: Annotated[str | None, typer.Option("--resume", help="Session id to continue.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Fix the persona's line choices.")] = None,
    catalog: CatalogOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Practise a scenario in the terminal; the session is saved in the app's database and can be resumed."""
    from trainer.catalog import load_catalog
    from trainer.llm.seam import ModelUnavailable
    from trainer.roleplay.session import Sessions
    from trainer.team.app import TrainerApp

    settings = llm.settings()
    cat = load_catalog(catalog)
    voice = persona_voice(settings, cat, case=f"chat/{scenario}")
    store = store_at(database_url)
    app = TrainerApp(cat, store, Sessions(cat, voice=voice, checkpointer=store.db.checkpointer()))
    user, view = _resume(app, resume) if resume else _start(app, scenario, seed)
    print_card(cat, view.scenario_id)
    if not view.ended:
        out.print(f"[dim]Session {view.id} — resume with: trainer chat --resume {view.id}[/dim]")
    persona = cat.persona(cat.scenario(view.scenario_id).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "you"
        out.print(f"[bold]{escape(who)}:[/bold] {escape(turn.text)}")
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
            out.print(f"[bold]you:[/bold] {escape(line)}")
        out.print(f"[bold]{escape(persona.name)}:[/bold] ", end="")
        replaced = len(view.voice_notes)
        heard.clear()
        try:
            view = app.send(user, view.id, line, on_token=hear)
        except ModelUnavailable as exc:
            out.print()
            out.print(f"[red]{escape(str(exc))}[/red]")
            if not sys.stdin.isatty():  # a script cannot resend the line: stop, resumable
                out.print(f"[dim]Paused. Resume with: trainer chat --resume {view.id}[/dim]")
                raise typer.Exit(1) from None
            continue
        if len(view.voice_notes) > replaced:
            out.print(
                "\n[dim](the model's reply was replaced by the persona's own line)[/dim] "
                + escape(view.last_reply),
                end="",
            )
        elif " ".join("".join(heard).split()) != " ".join(view.last_reply.split()):
            # The stream was cut and the retry said it differently: show what the session kept.
            out.print(f"\n[dim](in full)[/dim] {escape(view.last_reply)}", end="")
        out.print(f"  [dim]({escape(view.mood)})[/dim]")
    if view.ended:
        print_scorecard(view)
        if usage := usage_line(view):
            out.print(f"[dim]Model use: {usage}[/dim]")
    else:
        out.print(f"[dim]Paused. Resume with: trainer chat --resume {view.id}[/dim]")


def _trainee_lines(path: Path) -> list[str]:
    from trainer.datafiles import TextError, json_problem, load_json, read_text

    if not path.is_file():
        raise UsageError(f"{path}: {'is a folder' if path.is_dir() else 'no such file'}")
    try:
        text = read_text(path)  # at most 1 MB, UTF-8
    except TextError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            data = load_json(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {exc.lineno}: {json_problem(exc)}") from None
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
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Also keep the session in this database (sqlite:///PATH or postgresql://...), ended and"
            " scored, in --user's history. Default: kept nowhere.",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Whose history the kept session joins (with --database-url).")
    ] = None,
) -> None:
    """Play scripted trainee lines against a scenario's persona, then print transcript and scorecard."""
    from trainer.catalog import load_catalog
    from trainer.roleplay.play import play_lines
    from trainer.roleplay.session import Sessions, SessionView
    from trainer.team.store import LOCAL_NAME

    settings = llm.settings()
    cat = load_catalog(catalog)
    lines = _trainee_lines(trainee)
    store = store_at(database_url) if database_url else None
    owner = user or LOCAL_NAME
    if store is not None and user is not None and store.user(user) is None:
        raise UsageError(f"--user: no user {user!r} in that database")
    if user is not None and store is None:
        raise UsageError("--user: only with --database-url (the session is kept nowhere otherwise)")
    voice = persona_voice(settings, cat, case=f"run/{scenario}-{trainee.stem}")
    sessions = Sessions(cat, voice=voice, **({"checkpointer": store.db.checkpointer()} if store else {}))
    played = play_lines(sessions, scenario, lines, seed=seed)
    view, card = played.view, played.scorecard
    if store is not None:
        store.add_session(view.id, owner, scenario_id=scenario, mode="training", pass_mark=card.pass_mark,
                          title=cat.scenario(scenario).title)  # fmt: skip
        store.finish_session(view.id, card, view.transcript_json())
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
        out.print(f"[bold]{escape(who)}:[/bold] {escape(turn.text)}")
    print_scorecard(SessionView(**{**view.__dict__, "scorecard": card}))
    if usage := usage_line(view):
        out.print(f"[dim]Model use: {usage}[/dim]")
