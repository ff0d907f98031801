"""Checks that a persona's words stay true to the role: no locked motive, no broken character, no coaching.

The LLM voice runs them on every reply (and speaks the authored line when one trips); eval suites run
the same checks on whole transcripts, so both agree on what a leak is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from trainer.prompts import SLOT, never_say, prompts_root
from trainer.schema import Persona

SHINGLE = 6  # words in a row shared with a secret (or with the prompt) that count as a leak


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _normal(text: str) -> str:
    return " ".join(_words(text))


def phrase_hits(text: str, categories: Iterable[str], root: Path | None = None) -> list[str]:
    """`category: phrase` for every never-say phrase in the text."""
    low = " " + text.lower().replace("’", "'") + " "
    lists = never_say(root)
    return [f"{name}: {phrase!r}" for name in categories for phrase in lists.get(name, []) if phrase in low]


def _speakable(persona: Persona) -> set[tuple[str, ...]]:
    """Word runs the persona may say before any layer opens: its public facts and non-secret lines."""
    lines = [*persona.public, *persona.opening]
    lines += [
        line for name in type(persona.reactions).model_fields for line in getattr(persona.reactions, name)
    ]
    lines += [line for c in persona.challenges for line in (*c.line, *c.passed, *c.failed)]
    lines += [hint for layer in persona.hidden for hint in layer.hints]
    return set().union(*(shingles(line) for line in lines))


def locked_leaks(text: str, persona: Persona, unlocked: Iterable[str]) -> list[str]:
    """Ids of hidden layers still locked whose fact or reveal lines the text repeats.

    Word runs the persona may say anyway (a signature line that also opens a reveal, a hint) don't count.
    """
    opened = set(unlocked)
    said = _normal(text)
    said_shingles = shingles(text) - _speakable(persona)
    leaks = []
    for layer in persona.hidden:
        if layer.id in opened:
            continue
        secrets = [layer.fact, *layer.reveal]
        if any(_normal(line) in said for line in layer.reveal) or any(
            shingles(secret) & said_shingles for secret in secrets
        ):
            leaks.append(layer.id)
    return leaks


@cache
def _prompt_shingles(root: Path) -> frozenset[tuple[str, ...]]:
    """Runs of words from the prompt templates themselves (not the persona's own lines filled into them)."""
    found: set[tuple[str, ...]] = set()
    for name in ("persona_system.md", "persona_turn.md", "persona_parts.yaml"):
        path = root / name
        if not path.exists():
            continue
        for segment in SLOT.split(path.read_text(encoding="utf-8")):
            for piece in re.split(r"\{line\}|\{fact\}|\n", segment):
                found |= shingles(piece, SHINGLE + 2)
    return frozenset(found)


def prompt_leak(text: str, root: Path | None = None) -> bool:
    """True when the text reads out its instructions: eight words in a row of them, or a telltale phrase."""
    root = (root or prompts_root()).resolve()
    return bool(_prompt_shingles(root) & shingles(text, SHINGLE + 2)) or bool(
        phrase_hits(text, ["prompt_echo"], root)
    )


def reply_problems(
    text: str, persona: Persona, unlocked: Iterable[str], root: Path | None = None
) -> list[str]:
    """Everything wrong with one persona reply, as short notes (empty when it is fine)."""
    problems = phrase_hits(text, ("breaking_character", "coaching"), root)
    problems += [f"locked_fact: {layer_id}" for layer_id in locked_leaks(text, persona, unlocked)]
    if prompt_leak(text, root):
        problems.append("prompt_leak: repeats the persona instructions")
    return problems
