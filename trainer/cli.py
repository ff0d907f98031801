"""The `trainer` command: every interface of INTERFACES.md, offline by default.

Exit codes: 0 success, 1 a check failed, 2 bad input or usage (one line on stderr naming what is wrong).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trainer.assess import assess_turn
from trainer.catalog import Catalog, CatalogError, load_catalog, validate_paths
from trainer.grading import grade_session, grade_transcript, turn_labels
from trainer.schema import Turn
from trainer.session import SessionError, Sessions, SessionView, sqlite_checkpointer
from trainer.transcripts import TranscriptError, read_transcripts

DEFAULT_SCENARIO = "vp_budget_review"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Role-play trainer for sales reps: practise discovery with simulated executives.",
)
out = Console(highlight=False, soft_wrap=True)

CatalogOpt = Annotated[
    Path | None, typer.Option("--catalog", help="Folder with personas/ and scenarios/ (or $TRAINER_CATALOG).")
]
BackendOpt = Annotated[str, typer.Option("--backend", help="offline (no network) or openai.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model name for LLM backends.")]


class UsageError(ValueError):
    """Bad input from the user; printed as one line, exit 2."""


def _catalog(path: Path | None) -> Catalog:
    return load_catalog(path)


def _check_backend(backend: str) -> None:
    if backend not in ("offline", "openai", "auto"):
        raise UsageError(f"--backend: unknown backend {backend!r} (use offline or openai)")
    if backend == "openai":
        raise UsageError("--backend openai: the LLM backend is not available in this version; use offline")


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- catalog


@app.command()
def personas(catalog: CatalogOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the personas."""
    cat = _catalog(catalog)
    rows = [
        {"id": p.id, "name": p.name, "title": p.title, "path": str(cat.paths[f"persona:{p.id}"])}
        for p in cat.personas.values()
    ]
    if as_json:
        _emit(rows)
        return
    for p in cat.personas.values():
        out.print(f"[bold]{p.id}[/bold]  {p.name}, {p.title} ({p.organisation})  patience {p.patience:g}")


@app.command()
def scenarios(catalog: CatalogOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the scenarios."""
    cat = _catalog(catalog)
    rows = [
        {"id": s.id, "title": s.title, "persona": s.persona, "path": str(cat.paths[f"scenario:{s.id}"])}
        for s in cat.scenarios.values()
    ]
    if as_json:
        _emit(rows)
        return
    for s in cat.scenarios.values():
        out.print(
            f"[bold]{s.id}[/bold]  {s.title}  [dim]({s.persona}, {s.difficulty}, pass {s.pass_mark})[/dim]"
        )


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: the catalog).")
    ] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Check persona and scenario files; the first bad one is named with file, line and field (exit 2)."""
    if paths:
        checked = validate_paths(paths, catalog)
    else:
        cat = _catalog(catalog)
        checked = [str(p) for p in cat.paths.values()]
    out.print(f"ok: {len(checked)} file(s) valid")


# ---------------------------------------------------------------- playing


def _print_card(cat: Catalog, scenario_id: str) -> None:
    scenario = cat.scenario(scenario_id)
    persona = cat.persona(scenario.persona)
    out.rule(f"[bold]{scenario.title}[/bold]")
    out.print(f"[bold]{persona.name}[/bold], {persona.title}, {persona.organisation}")
    out.print(f"[dim]Setting:[/dim] {scenario.setting}")
    out.print(f"[dim]You sell:[/dim] {scenario.brief}")
    out.print("[dim]Objectives:[/dim]")
    for objective in scenario.objectives:
        out.print(f"  • {objective.description}")
    out.print(
        f"[dim]Up to {scenario.max_turns} turns; pass mark {scenario.pass_mark}. Type /quit to stop.[/dim]"
    )
    out.rule()


def _print_scorecard(view: SessionView) -> None:
    card = view.scorecard
    if card is None:
        return
    out.rule("[bold]Scorecard[/bold]")
    verdict = "[green]passed[/green]" if card.passed else "[red]not yet[/red]"
    out.print(f"Overall [bold]{card.overall:.0f}[/bold] / 100  ({verdict}, pass mark {card.pass_mark})")
    for name, score in card.dimensions.items():
        bar = "█" * round(score / 10) + "░" * (10 - round(score / 10))
        out.print(f"  {name.replace('_', ' '):<17} {bar} {score:5.1f}")
    if card.tips:
        out.print("[bold]Tips[/bold]")
        for tip in card.tips:
            out.print(f"  • {tip}")
    out.print(f"[dim]Session ended: {view.state.reason}. Transcript id {view.id}.[/dim]")


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


@app.command()
def chat(
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")] = DEFAULT_SCENARIO,
    resume: Annotated[str | None, typer.Option("--resume", help="Session id to continue.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Fix the persona's line choices.")] = None,
    catalog: CatalogOpt = None,
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
) -> None:
    """Practise a scenario in the terminal; the session is saved and can be resumed."""
    _check_backend(backend)
    cat = _catalog(catalog)
    sessions = Sessions(cat, checkpointer=sqlite_checkpointer())
    view = sessions.view(resume) if resume else sessions.start(scenario, seed=seed)
    _print_card(cat, view.scenario_id)
    persona = cat.persona(cat.scenario(view.scenario_id).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "you"
        out.print(f"[bold]{who}:[/bold] {turn.text}")
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
        view = sessions.send(view.id, line)
        out.print(f"[bold]{persona.name}:[/bold] {view.last_reply}  [dim]({view.mood})[/dim]")
    if view.ended:
        _print_scorecard(view)
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


@app.command()
def run(
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")],
    trainee: Annotated[Path, typer.Option("--trainee", help="Trainee lines: one per line, or a JSON list.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    catalog: CatalogOpt = None,
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
) -> None:
    """Play scripted trainee lines against a scenario's persona, then print transcript and scorecard."""
    _check_backend(backend)
    cat = _catalog(catalog)
    lines = _trainee_lines(trainee)
    sessions = Sessions(cat)
    view = sessions.start(scenario, seed=seed)
    for line in lines:
        if view.ended:
            break
        view = sessions.send(view.id, line)
    card = view.scorecard or grade_session(
        view.turns,
        view.assessments,
        scenario=cat.scenario(scenario),
        persona=cat.persona(cat.scenario(scenario).persona),
        state=view.state,
        transcript_id=view.id,
    )
    if as_json:
        _emit(
            {
                "transcript": view.transcript_json(),
                "scorecard": card.model_dump(),
                "persona_state": view.persona_state_json(cat),
            }
        )
        return
    persona = cat.persona(cat.scenario(scenario).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "Rep"
        out.print(f"[bold]{who}:[/bold] {turn.text}")
    _print_scorecard(SessionView(**{**view.__dict__, "scorecard": card}))


# ---------------------------------------------------------------- grading


@app.command()
def grade(
    paths: Annotated[
        list[str], typer.Argument(help="Transcript files (JSON or 'Rep:'/'Customer:' text); - for stdin.")
    ],
    catalog: CatalogOpt = None,
) -> None:
    """Print one scorecard JSON object per transcript, in input order."""
    stdin_text = sys.stdin.read() if "-" in paths else None
    cat = None
    for path in paths:
        for transcript in read_transcripts(path, stdin_text):
            scenario = None
            if transcript.scenario:
                cat = cat or _catalog(catalog)
                scenario = cat.scenarios.get(transcript.scenario)
            _emit(grade_transcript(transcript, scenario).model_dump())


@app.command()
def classify(
    path: Annotated[str, typer.Argument(help="JSON Lines file; - or nothing for stdin.")] = "-",
) -> None:
    """Label trainee turns: JSON Lines in ({id, text, context}), JSON Lines out, same order."""
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
        labels = turn_labels(assess_turn(item["text"], len(earlier), earlier))
        labels.pop("turn")
        labels.pop("text")
        _emit({"id": item.get("id"), **labels})


def main() -> None:
    try:
        app(standalone_mode=False)
    except (CatalogError, TranscriptError, SessionError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            print(f"error: {exc.format_message()}", file=sys.stderr)
            sys.exit(2)
        raise
