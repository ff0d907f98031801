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
from rich.markup import escape

from trainer.catalog import Catalog, CatalogError, load_catalog, validate_paths
from trainer.grader.assess import assess_turn
from trainer.grader.scorecard import grade_session, grade_transcript, turn_labels
from trainer.grader.transcripts import TranscriptError, read_transcripts
from trainer.llm.backends import ModelUnavailable, ReplayMiss
from trainer.llm.config import ConfigError, LLMConfig, resolve
from trainer.roleplay.session import SessionError, Sessions, SessionView, sqlite_checkpointer
from trainer.schema import Turn

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
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="offline (no network), openai (any OpenAI-compatible server) or replay (recorded replies). "
        "Default: openai when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline.",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model for the persona voice (and the judge unless --judge-model)."),
]
JudgeModelOpt = Annotated[str | None, typer.Option("--judge-model", help="Model for the LLM judge.")]
TemperatureOpt = Annotated[
    float | None, typer.Option("--temperature", help="Sampling temperature of the voice.")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="TOML config file (default: ./trainer.toml or ~/.config/trainer)."),
]
RecordOpt = Annotated[
    bool, typer.Option("--record", help="Use the real endpoint and write every model exchange to cassettes.")
]
ReplayOpt = Annotated[
    bool, typer.Option("--replay", help="Serve model replies from cassettes only; no network.")
]
CassettesOpt = Annotated[
    Path | None, typer.Option("--cassettes", help="Folder of recorded exchanges (default evals/recordings).")
]


class UsageError(ValueError):
    """Bad input from the user; printed as one line, exit 2."""


def _catalog(path: Path | None) -> Catalog:
    return load_catalog(path)


def _check_backend(backend: str, model: str | None = None, **flags: Any) -> LLMConfig:
    """Settle the model backend from flags, environment and config file (see llm_config.py)."""
    try:
        return resolve(backend=backend, model=model, **flags)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _voice(config: LLMConfig, cat: Catalog, case: str | None = None):
    """The persona voice for a backend: authored lines offline, else the LLM voice over its ChatModel."""
    from trainer.llm.backends import Cassette, RecordingChatModel
    from trainer.llm.config import chat_model
    from trainer.prompts import prompts_root
    from trainer.roleplay.llm_voice import LLMVoice
    from trainer.roleplay.voice import offline_voice

    model = chat_model(config, case=case)
    if model is None:
        return offline_voice
    if config.record:
        name = (case or "session").replace("/", "-")
        model = RecordingChatModel(
            model, Cassette(config.cassettes / "sessions" / f"{name}.jsonl"), case=case
        )
    return LLMVoice(model, config.voice_model, config.temperature, prompts_root(cat.root))


def _usage_line(view: SessionView) -> str | None:
    from trainer.llm.usage import Meter

    if not view.usage:
        return None
    meter = Meter()
    meter.merge(view.usage)
    replaced = f"; {len(view.voice_notes)} reply(ies) replaced by authored lines" if view.voice_notes else ""
    return meter.summary() + replaced


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
    temperature: TemperatureOpt = None,
    config: ConfigOpt = None,
    record: RecordOpt = False,
    replay: ReplayOpt = False,
    cassettes: CassettesOpt = None,
) -> None:
    """Practise a scenario in the terminal; the session is saved and can be resumed."""
    settings = _check_backend(
        backend,
        model,
        temperature=temperature,
        config_path=config,
        record=record,
        replay=replay,
        cassettes=cassettes,
    )
    cat = _catalog(catalog)
    voice = _voice(settings, cat, case=f"chat/{scenario}")
    sessions = Sessions(cat, voice=voice, checkpointer=sqlite_checkpointer())
    view = sessions.view(resume) if resume else sessions.start(scenario, seed=seed)
    _print_card(cat, view.scenario_id)
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
        _print_scorecard(view)
        if usage := _usage_line(view):
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


@app.command()
def run(
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario id.")],
    trainee: Annotated[Path, typer.Option("--trainee", help="Trainee lines: one per line, or a JSON list.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    catalog: CatalogOpt = None,
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    config: ConfigOpt = None,
    record: RecordOpt = False,
    replay: ReplayOpt = False,
    cassettes: CassettesOpt = None,
) -> None:
    """Play scripted trainee lines against a scenario's persona, then print transcript and scorecard."""
    settings = _check_backend(
        backend,
        model,
        temperature=temperature,
        config_path=config,
        record=record,
        replay=replay,
        cassettes=cassettes,
    )
    cat = _catalog(catalog)
    lines = _trainee_lines(trainee)
    sessions = Sessions(cat, voice=_voice(settings, cat, case=f"run/{scenario}-{trainee.stem}"))
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
                **({"usage": _usage_json(view)} if view.usage else {}),
            }
        )
        return
    persona = cat.persona(cat.scenario(scenario).persona)
    for turn in view.turns:
        who = persona.name if turn.speaker == "persona" else "Rep"
        out.print(f"[bold]{who}:[/bold] {turn.text}")
    _print_scorecard(SessionView(**{**view.__dict__, "scorecard": card}))
    if usage := _usage_line(view):
        out.print(f"[dim]Model use: {usage}[/dim]")


def _usage_json(view: SessionView) -> dict[str, Any]:
    from trainer.llm.usage import Meter

    meter = Meter()
    meter.merge(view.usage)
    return {**meter.as_json(), "replaced_replies": view.voice_notes}


# ---------------------------------------------------------------- grading


@app.command()
def grade(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Transcript files (JSON, 'Rep:'/'Customer:' text, named speakers, .vtt); - for stdin."
        ),
    ],
    catalog: CatalogOpt = None,
    judge: Annotated[
        str, typer.Option("--judge", help="offline (the trained classifier) or llm (a model via --backend).")
    ] = "offline",
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
    config: ConfigOpt = None,
    replay: ReplayOpt = False,
    cassettes: CassettesOpt = None,
    rep: Annotated[
        str | None,
        typer.Option("--rep", help="For transcripts with named speakers (a call export): the rep's name."),
    ] = None,
) -> None:
    """Print one scorecard JSON object per transcript, in input order."""
    relabel = _judge(judge, backend, model, config, replay, cassettes)
    stdin_text = sys.stdin.read() if "-" in paths else None
    cat = None
    for path in paths:
        for transcript in read_transcripts(path, stdin_text, rep):
            scenario = None
            if transcript.scenario:
                cat = cat or _catalog(catalog)
                scenario = cat.scenarios.get(transcript.scenario)
            _emit(grade_transcript(transcript, scenario, relabel).model_dump())


@app.command()
def classify(
    path: Annotated[str, typer.Argument(help="JSON Lines file; - or nothing for stdin.")] = "-",
    judge: Annotated[
        str, typer.Option("--judge", help="offline (the trained classifier) or llm (a model via --backend).")
    ] = "offline",
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
    config: ConfigOpt = None,
    replay: ReplayOpt = False,
    cassettes: CassettesOpt = None,
) -> None:
    """Label trainee turns: JSON Lines in ({id, text, context}), JSON Lines out, same order."""
    llm_judge = _judge(judge, backend, model, config, replay, cassettes)
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
        assessment = assess_turn(item["text"], len(earlier), earlier)
        if llm_judge is not None:
            assessment = llm_judge(assessment, context, f"judge line {number}")
        labels = turn_labels(assessment)
        labels.pop("turn")
        labels.pop("text")
        _emit({"id": item.get("id"), **labels})


def _judge(
    judge: str, backend: str, model: str | None, config: Path | None, replay: bool, cassettes: Path | None
):
    """None for the offline classifier; else a function that relabels an assessment with the LLM judge."""
    if judge not in ("offline", "llm"):
        raise UsageError(f"--judge: unknown judge {judge!r} (use offline or llm)")
    if judge == "offline":
        return None
    from trainer.grader.judge import judged, llm_assess
    from trainer.llm.config import chat_model

    settings = _check_backend(
        backend, judge_model=model, config_path=config, replay=replay, cassettes=cassettes
    )
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


# ---------------------------------------------------------------- eval suites


@app.command("eval")
def eval_suites(
    suites: Annotated[list[Path], typer.Argument(help="Suite files or folders (evals/suites).")],
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
    judge_model: JudgeModelOpt = None,
    temperature: TemperatureOpt = None,
    config: ConfigOpt = None,
    record: RecordOpt = False,
    replay: ReplayOpt = False,
    cassettes: CassettesOpt = None,
    repeat: Annotated[
        int, typer.Option("--repeat", min=1, help="Run each case k times; reports pass^k.")
    ] = 1,
    case: Annotated[str | None, typer.Option("--case", help="Run only this case (id or suite/id).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, help="Cases at once.")] = None,
    report: Annotated[Path, typer.Option("--report", help="Where to write the JSON report.")] = Path(
        "test-artifacts/eval-report.json"
    ),
    catalog: CatalogOpt = None,
) -> None:
    """Run eval suites (scripted turns + expectations): a table, a JSON report, exit 1 on any failure."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from trainer.evals.suites import load_suites, run_suites

    settings = _check_backend(
        backend,
        model,
        judge_model=judge_model,
        temperature=temperature,
        config_path=config,
        record=record,
        replay=replay,
        cassettes=cassettes,
    )
    if concurrency:
        settings = settings.model_copy(update={"concurrency": concurrency})
    loaded = load_suites(suites)
    cat = _catalog(catalog)
    total = sum(len(s.cases) for s, _ in loaded) * repeat
    err = Console(stderr=True, highlight=False)
    err.print(f"[dim]Backend: {settings.describe()}[/dim]")
    with Progress(
        TextColumn("eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("eval", total=total)
        result = run_suites(
            loaded, settings, cat, repeat=repeat, only=case, on_done=lambda _: progress.advance(task)
        )
    table = Table(title=f"Eval: {settings.describe()}", show_lines=False)
    for column in (
        "case",
        "passed",
        "turns",
        "opened",
        "overall",
        "replaced",
        "tokens",
        "first failure",
    ):
        table.add_column(column, overflow="fold")
    for (suite_id, case_id), runs in result.cases.items():
        first = runs[0]
        failure = next((r.error or r.failures[0] for r in runs if not r.passed), "")
        tokens = sum(u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in first.usage.values())
        ok = sum(1 for r in runs if r.passed)
        table.add_row(
            f"{suite_id}/{case_id}",
            f"[green]{ok}/{len(runs)}[/green]" if ok == len(runs) else f"[red]{ok}/{len(runs)}[/red]",
            str(first.turns),
            str(len(first.unlocked)),
            f"{first.scores.get('overall', 0):.0f}" if first.scores else "-",
            str(first.replaced),
            f"{tokens:,}" if tokens else "-",
            failure[:160],
        )
    Console(highlight=False, width=max(out.width, 160)).print(table)
    summary = result.summary()
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if settings.record:
        _write_manifest(settings)
    from trainer.llm.usage import Meter

    meter = Meter()
    meter.merge(result.usage.get("by_model", {}))
    out.print(
        f"{summary['cases']} cases, {summary['runs_passed']}/{summary['runs']} runs passed, "
        f"pass^{repeat} = {summary[f'pass^{repeat}']:.2f}; model use: {meter.summary()}; report: {report}"
    )
    for r in result.results:
        if not r.passed:
            problems = [r.error] if r.error else r.failures
            print(
                f"FAILED {r.suite}/{r.case} (run {r.run + 1}): " + " | ".join(problems[:4]), file=sys.stderr
            )
    if result.failed:
        raise typer.Exit(1)


def _write_manifest(settings: LLMConfig) -> None:
    """What the cassettes were recorded with, so --replay asks for the same models (never the key)."""
    from datetime import UTC, datetime
    from urllib.parse import urlsplit

    from trainer.llm.config import MANIFEST

    manifest = {
        "voice_model": settings.voice_model,
        "judge_model": settings.judge_model,
        "temperature": settings.temperature,
        "judge_temperature": settings.judge_temperature,
        "server": urlsplit(settings.base_url).netloc if settings.base_url else "api.openai.com",
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path = settings.cassettes / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- web app and its users

users_app = typer.Typer(no_args_is_help=True, help="Manage the web app's users: reps and managers, in teams.")
app.add_typer(users_app, name="users")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="sqlite:///PATH (default: $TRAINER_DATABASE_URL or the data dir)."),
]


def _store(database_url: str | None):
    from trainer.team.store import StoreError, open_store

    try:
        return open_store(database_url)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _new_password(from_stdin: bool) -> str:
    """Read a password without echo (twice on a terminal), or one line from stdin for scripts."""
    import getpass

    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("password: the two entries differ")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Sign-in name (one word).")],
    role: Annotated[str, typer.Option("--role", help="rep or manager.")] = "rep",
    team: Annotated[str, typer.Option("--team", help="Team name; managers see their team's reps.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a user; the password is asked for (or read from stdin) and stored only as a scrypt hash."""
    from trainer.team.access import hash_password
    from trainer.team.store import StoreError

    store = _store(database_url)
    try:
        user = store.add_user(name, role, team, hash_password(_new_password(password_stdin)))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"added {user.role} {user.name}" + (f" (team {user.team})" if user.team else ""))


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Set a new password for a user."""
    from trainer.team.access import hash_password
    from trainer.team.store import StoreError

    store = _store(database_url)
    try:
        store.set_password(name, hash_password(_new_password(password_stdin)))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"password changed for {name}")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List users with their role and team (never their passwords)."""
    users = _store(database_url).users()
    if as_json:
        _emit([{"name": u.name, "role": u.role, "team": u.team} for u in users])
        return
    if not users:
        out.print("no users yet: the app runs without sign-in on 127.0.0.1 until you add one")
    for u in users:
        out.print(f"[bold]{u.name}[/bold]  {u.role}" + (f"  team {u.team}" if u.team else ""))


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: the first free from 7860).")
    ] = None,
    database_url: DatabaseOpt = None,
    catalog: CatalogOpt = None,
    backend: BackendOpt = "auto",
    model: ModelOpt = None,
) -> None:
    """Start the web app and print its URL; sign-in is required once users exist or beyond localhost."""
    settings = _check_backend(backend, model)
    from trainer.team.store import StoreError

    cat = _catalog(catalog)
    store = _store(database_url)
    from trainer.web.server import launch

    try:
        demo, url = launch(
            cat, store, store.db.checkpointer(), host=host, port=port, voice=_voice(settings, cat)
        )
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    login = "sign-in required"
    if store.user_count() == 0:
        login = "no sign-in needed on this machine until you add users"
    out.print(f"Discovery Trainer is running at [bold]{url}[/bold]  ({login}; Ctrl+C to stop)")
    out.print(f"[dim]Personas speak through: {settings.describe()}[/dim]")
    demo.block_thread()


@app.command()
def calibrate(
    data: Annotated[Path, typer.Option("--data", help="Folder with annomi/ and persuasionforgood/ in it.")],
    catalog: CatalogOpt = None,
) -> None:
    """Measure the offline grader against human labels and print the tables published in the README."""
    from trainer.evals.calibration import calibrate as turn_agreement
    from trainer.evals.calibration import format_table
    from trainer.evals.rankings import annomi_session_auc, format_session_tables, scripted_rankings

    if not data.is_dir():
        raise UsageError(f"--data: {data}: no such folder")
    report = turn_agreement(data)
    out.print("Per-turn agreement with human labels (held-out: conversations the model never trained on)\n")
    out.print(format_table(report), markup=False)
    scripts = Path(__file__).resolve().parents[2] / "evals" / "scripts"
    ranking = scripted_rankings(_catalog(catalog), scripts) if scripts.is_dir() else {}
    out.print("\nSession level: `overall` of high vs low quality conversations; scripted sales sessions\n")
    out.print(format_session_tables(annomi_session_auc(data), ranking), markup=False)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click returns a typer.Exit's code here instead of raising
        if isinstance(code, int) and code:
            sys.exit(code)
    except (CatalogError, TranscriptError, SessionError, UsageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (ModelUnavailable, ReplayMiss) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
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
