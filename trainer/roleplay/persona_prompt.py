"""The persona's prompt, rendered from the prompt files with only what the persona may say now.

The persona's messages put the static part first (rules, style, setting, public facts: the same every turn)
so provider prompt caching applies; the conversation follows, and the per-turn direction comes last. A
locked hidden layer's text is never rendered: only layers already in `state.unlocked`, and for a hint part
only the authored hint line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trainer.llm.seam import Message
from trainer.prompts import prompt_data, prompt_file, prompts_root, render
from trainer.roleplay.persona import ReplyPart, ReplyPlan
from trainer.schema import Persona, PersonaState, Scenario, Turn


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else "- (nothing yet)"


def persona_system(persona: Persona, scenario: Scenario, root: Path) -> str:
    """The static part: the same for every turn of a session, so it can be cached."""
    return render(
        prompt_file(root, "persona_system.md"),
        {
            "name": persona.name,
            "title": persona.title,
            "organisation": persona.organisation,
            "style": persona.style.strip(),
            "setting": scenario.setting.strip(),
            "public": _bullets(persona.public),
        },
    )


def part_direction(persona: Persona, part: ReplyPart, line: str, root: Path) -> str:
    """One plan part as an instruction; a reveal names the layer being opened now, a hint only its line."""
    table = prompt_data(prompt_file(root, "persona_parts.yaml"))
    if not _has(table, part):  # a catalog's own file from before this part existed: the built-in wording
        table = prompt_data(prompts_root() / "persona_parts.yaml")
    template = table["reaction"][part.key] if part.kind == "reaction" else table[part.kind]
    fact = persona.layer(part.key).fact.strip() if part.kind == "reveal" else ""
    return str(template).replace("{line}", f'"{line}"').replace("{fact}", fact)


def _has(table: dict, part: ReplyPart) -> bool:
    return part.key in (table.get("reaction") or {}) if part.kind == "reaction" else part.kind in table


def _patience(share: float) -> str:
    """Words, not numbers: the prompt holds steady across small trust changes, and reads better."""
    return "fine" if share > 2 / 3 else "wearing thin" if share > 1 / 3 else "almost gone"


def persona_direction(
    persona: Persona, state: PersonaState, plan: ReplyPlan, examples: Sequence[str], root: Path
) -> str:
    """The per-turn part: mood, what is already open, and the plan with an authored example per part."""
    now = {part.key for part in plan.parts if part.kind == "reveal"}
    opened = [persona.layer(i).fact.strip() for i in state.unlocked if i not in now]
    parts = [
        f"{n}. {part_direction(persona, part, line, root)}"
        for n, (part, line) in enumerate(zip(plan.parts, examples, strict=True), start=1)
    ]
    return render(
        prompt_file(root, "persona_turn.md"),
        {
            "name": persona.name,
            "mood": plan.mood or "guarded",
            "patience": _patience(state.patience / persona.patience),
            "unlocked": _bullets(opened),
            "parts": "\n".join(parts),
        },
    )


def persona_messages(
    persona: Persona,
    scenario: Scenario,
    state: PersonaState,
    plan: ReplyPlan,
    turns: Sequence[Turn],
    examples: Sequence[str],
    root: Path,
) -> list[Message]:
    """System (static) + the conversation so far + the direction for this reply."""
    messages: list[Message] = [{"role": "system", "content": persona_system(persona, scenario, root)}]
    for turn in turns:
        role = "assistant" if turn.speaker == "persona" else "user"
        messages.append({"role": role, "content": turn.text})
    messages.append({"role": "system", "content": persona_direction(persona, state, plan, examples, root)})
    return messages
