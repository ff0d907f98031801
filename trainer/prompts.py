"""Persona and judge prompts, rendered from the files in prompts/ with only what the persona may say now.

The persona's messages put the static part first (rules, style, setting, public facts: the same every turn)
so provider prompt caching applies; the conversation follows, and the per-turn direction comes last. A
locked hidden layer's text is never rendered: only layers already in `state.unlocked`, and for a hint part
only the authored hint line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from trainer.catalog import CatalogError, builtin_root
from trainer.llm.backends import Message
from trainer.roleplay.persona import ReplyPart, ReplyPlan
from trainer.schema import Persona, PersonaState, Scenario, Turn

_SLOT = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def prompts_root(catalog_root: Path | None = None) -> Path:
    """A manager's catalog may carry its own prompts/; otherwise the built-in ones."""
    if catalog_root is not None and (catalog_root / "prompts").is_dir():
        return catalog_root / "prompts"
    return builtin_root() / "prompts"


def _file(root: Path, name: str) -> Path:
    own = root / name
    return own if own.exists() else builtin_root() / "prompts" / name


@cache
def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CatalogError(path, f"cannot read prompt ({exc.strerror or exc})") from None


@cache
def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(path, f"cannot read prompt data ({exc})") from None
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    return data


def render(path: Path, values: dict[str, str]) -> str:
    """Fill `{{ name }}` slots; a slot with no value is an error naming the file and line."""
    text = _text(path)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            line = text.count("\n", 0, match.start()) + 1
            raise CatalogError(
                path, f"unknown slot {{{{{name}}}}} (known: {', '.join(sorted(values))})", line
            )
        return values[name]

    return _SLOT.sub(fill, text)


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else "- (nothing yet)"


def persona_system(persona: Persona, scenario: Scenario, root: Path) -> str:
    """The static part: the same for every turn of a session, so it can be cached."""
    return render(
        _file(root, "persona_system.md"),
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
    table = _yaml(_file(root, "persona_parts.yaml"))
    template = table["reaction"][part.key] if part.kind == "reaction" else table[part.kind]
    fact = persona.layer(part.key).fact.strip() if part.kind == "reveal" else ""
    return str(template).replace("{line}", f'"{line}"').replace("{fact}", fact)


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
        _file(root, "persona_turn.md"),
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


def never_say(root: Path | None = None) -> dict[str, list[str]]:
    """Phrase lists a persona must never say, by category (prompts/never_say.yaml)."""
    data = _yaml(_file(root or prompts_root(), "never_say.yaml"))
    return {str(k): [str(p).lower() for p in v or []] for k, v in data.items()}


def judge_messages(text: str, context: str | None, root: Path) -> list[Message]:
    return [
        {"role": "system", "content": render(_file(root, "judge_system.md"), {})},
        {
            "role": "user",
            "content": render(
                _file(root, "judge_turn.md"), {"text": text, "context": context or "(nothing yet)"}
            ),
        },
    ]
