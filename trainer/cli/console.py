"""What the commands print: the scenario card, the scorecard, model use and JSON lines, in one voice.

Kept apart from the commands so `trainer run` and `trainer chat` show a session the same way. Catalog
and session text goes through `escape`: a persona's brief or a rep's `[/]` is words, never Rich markup.
Rich is imported when something is first printed through it: `trainer classify` and `grade` print JSON
lines only, and importing Rich would cost them about 15 ms.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from trainer.catalog import Catalog
    from trainer.roleplay.session import SessionView


class _Console:
    """Stands for the one Rich console of the CLI, made on first use; attributes are the console's."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if _Console._console is None:
            from rich.console import Console

            _Console._console = Console(highlight=False, soft_wrap=True)
        return getattr(_Console._console, name)


out: Any = _Console()


def escape(text: str) -> str:
    """`rich.markup.escape`: the text shown as it is, never read as markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def print_card(cat: Catalog, scenario_id: str) -> None:
    scenario = cat.scenario(scenario_id)
    persona = cat.persona(scenario.persona)
    out.rule(f"[bold]{escape(scenario.title)}[/bold]")
    out.print(f"[bold]{escape(persona.name)}[/bold], " + escape(f"{persona.title}, {persona.organisation}"))
    out.print(f"[dim]Setting:[/dim] {escape(scenario.setting)}")
    out.print(f"[dim]You sell:[/dim] {escape(scenario.brief)}")
    out.print("[dim]Objectives:[/dim]")
    for objective in scenario.objectives:
        out.print(f"  • {escape(objective.description)}")
    out.print(
        f"[dim]Up to {scenario.max_turns} turns; pass mark {scenario.pass_mark}. Type /quit to stop.[/dim]"
    )
    out.rule()


def print_scorecard(view: SessionView) -> None:
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
            out.print(f"  • {escape(tip)}")  # tips quote the rep's own words
    out.print(f"[dim]Session ended: {escape(str(view.state.reason))}. Transcript id {view.id}.[/dim]")


def usage_line(view: SessionView) -> str | None:
    from trainer.llm.usage import Meter

    if not view.usage:
        return None
    meter = Meter()
    meter.merge(view.usage)
    replaced = f"; {len(view.voice_notes)} reply(ies) replaced by authored lines" if view.voice_notes else ""
    return meter.summary() + replaced


def usage_json(view: SessionView) -> dict[str, Any]:
    from trainer.llm.usage import Meter

    meter = Meter()
    meter.merge(view.usage)
    return {**meter.as_json(), "replaced_replies": view.voice_notes}
