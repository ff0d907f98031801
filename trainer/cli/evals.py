"""`trainer eval` and `trainer calibrate`: measure the trainer itself, on eval suites and on human labels.

Both pull in the suite runner, the session engine or the data sets, so everything is imported inside.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trainer.cli.console import out
from trainer.cli.options import BACKEND_FLAGS, CatalogOpt, LLMFlags, UsageError, backend_options

if TYPE_CHECKING:
    from trainer.llm.config import LLMConfig


@backend_options(*BACKEND_FLAGS)
def eval_suites(
    llm: LLMFlags,
    suites: Annotated[list[Path], typer.Argument(help="Suite files or folders (evals/suites).")],
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
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from trainer.catalog import load_catalog
    from trainer.evals.runner import run_suites
    from trainer.evals.suites import load_suites

    settings = llm.settings()
    if concurrency:
        settings = settings.model_copy(update={"concurrency": concurrency})
    loaded = load_suites(suites)
    cat = load_catalog(catalog)
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
            f"{first.scores['overall']:.0f}" if "overall" in first.scores else "-",
            str(first.replaced),
            f"{tokens:,}" if tokens else "-",
            failure[:160],
        )
    Console(highlight=False, width=max(out.width, 160)).print(table)
    for (suite_id, case_id), runs in result.cases.items():
        if runs[0].scores and "overall" not in runs[0].scores:  # a blind-set case: shares of sessions
            shares = ", ".join(f"{k} {v:.2f}" for k, v in runs[0].scores.items())
            out.print(f"{suite_id}/{case_id}: {shares}", markup=False)
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


def calibrate(
    data: Annotated[Path, typer.Option("--data", help="Folder with annomi/ and persuasionforgood/ in it.")],
    catalog: CatalogOpt = None,
) -> None:
    """Measure the offline grader against human labels and print the tables published in the README."""
    from trainer.catalog import load_catalog
    from trainer.evals.calibration import calibrate as turn_agreement
    from trainer.evals.calibration import format_table
    from trainer.evals.rankings import annomi_session_auc, format_session_tables, scripted_rankings

    if not data.is_dir():
        raise UsageError(f"--data: {data}: no such folder")
    cat = load_catalog(catalog)  # a bad --catalog fails now, not after the minutes of measuring
    report = turn_agreement(data)
    out.print("Per-turn agreement with human labels (held-out: conversations the model never trained on)\n")
    out.print(format_table(report), markup=False)
    scripts = Path(__file__).resolve().parents[2] / "evals" / "scripts"
    ranking = scripted_rankings(cat, scripts) if scripts.is_dir() else {}
    out.print("\nSession level: `overall` of high vs low quality conversations; scripted sales sessions\n")
    out.print(format_session_tables(annomi_session_auc(data), ranking), markup=False)


def discovery(
    scripts: Annotated[
        list[Path], typer.Argument(help="Folders of scripted rep conversations with a manifest.jsonl.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and every script as JSON.")
    ] = False,
    within: Annotated[int, typer.Option("--within", min=1, help="Turns allowed to reach so_i_can.")] = 8,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    catalog: CatalogOpt = None,
) -> None:
    """How deep scripted conversations get with the personas: layers opened, passes, repeated sentences."""
    from trainer.catalog import load_catalog
    from trainer.evals.discovery import as_json as report_json
    from trainer.evals.discovery import discovery_report, format_report, summarise

    cat = load_catalog(catalog)
    for folder in scripts:
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder of scripts (expected a manifest.jsonl inside)")
        results = discovery_report(cat, folder, seed=seed)
        if as_json:
            sys.stdout.write(json.dumps({"folder": str(folder), **report_json(results, within)}) + "\n")
            continue
        out.print(f"[bold]{folder}[/bold] ({len(results)} scripts, offline voice, seed {seed})")
        out.print(format_report(summarise(results, within), within), markup=False)
