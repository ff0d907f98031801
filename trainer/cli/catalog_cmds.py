"""`trainer personas`, `scenarios` and `validate`: look into the catalog without playing anything.

The catalog is imported inside each command, so `trainer --help` does not load its models.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trainer.cli.console import emit, escape, out
from trainer.cli.options import CatalogOpt, JsonOpt


def _listing(rows: list[dict[str, str]], lines: list[str], as_json: bool) -> None:
    """One JSON list of rows, or a line per entry for people."""
    if as_json:
        emit(rows)
        return
    for line in lines:
        out.print(line)


def personas(catalog: CatalogOpt = None, as_json: JsonOpt = False) -> None:
    """List the personas."""
    from trainer.catalog import load_catalog

    cat = load_catalog(catalog)
    _listing(
        [
            {"id": p.id, "name": p.name, "title": p.title, "path": str(cat.paths[f"persona:{p.id}"])}
            for p in cat.personas.values()
        ],
        [
            f"[bold]{escape(p.id)}[/bold]  {escape(f'{p.name}, {p.title} ({p.organisation})')}"
            f"  patience {p.patience:g}"
            for p in cat.personas.values()
        ],
        as_json,
    )


def scenarios(catalog: CatalogOpt = None, as_json: JsonOpt = False) -> None:
    """List the scenarios."""
    from trainer.catalog import load_catalog

    cat = load_catalog(catalog)
    _listing(
        [
            {"id": s.id, "title": s.title, "persona": s.persona, "path": str(cat.paths[f"scenario:{s.id}"])}
            for s in cat.scenarios.values()
        ],
        [
            f"[bold]{escape(s.id)}[/bold]  {escape(s.title)}  "
            f"[dim]{escape(f'({s.persona}, {s.difficulty}, pass {s.pass_mark})')}[/dim]"
            for s in cat.scenarios.values()
        ],
        as_json,
    )


def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: the catalog).")
    ] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Check persona and scenario files; the first bad one is named with file, line and field (exit 2)."""
    from trainer.catalog import load_catalog, thin_spots, validate_paths

    warnings: list[str] = []
    if paths:
        checked = validate_paths(paths, catalog)
    else:
        cat = load_catalog(catalog)
        checked = [str(p) for p in cat.paths.values()]
        warnings = thin_spots(cat)
    print(f"ok: {len(checked)} file(s) valid")  # no markup: Rich (~20 ms to import) would print it as is
    for warning in warnings:  # valid, but the persona will run short of things to say
        print(f"warning: {warning}", file=sys.stderr)
