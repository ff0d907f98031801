"""The seam that puts a ReplyPlan into words, and the offline voice that speaks from authored lines.

Every voice gets the same VoiceRequest; the offline one needs no network and is deterministic for a seed,
never repeating a line while another is still unused.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trainer.roleplay.persona import ReplyPart, ReplyPlan
from trainer.schema import Persona, PersonaState, Scenario, Turn


@dataclass(frozen=True)
class VoiceRequest:
    persona: Persona
    scenario: Scenario
    state: PersonaState
    plan: ReplyPlan
    turns: Sequence[Turn]
    seed: int
    turn_number: int
    on_token: Callable[[str], None] | None = None  # a streaming voice sends its words here as they come


@dataclass(frozen=True)
class Utterance:
    text: str
    used: list[str]  # keys of authored lines spoken, so they are not repeated
    usage: dict[str, Any] = field(default_factory=dict)  # model name -> Usage fields, for model voices
    streamed: bool = False  # the text already went to `on_token` as it was spoken
    note: str | None = None  # why a model's words were replaced by the authored line, if they were


class Voice(Protocol):
    def __call__(self, request: VoiceRequest) -> Utterance: ...


def authored_lines(persona: Persona, part: ReplyPart) -> list[str]:
    """The persona's own lines for one part of a plan."""
    if part.kind == "reaction":
        return list(getattr(persona.reactions, part.key))
    if part.kind in ("reveal", "hint"):
        layer = persona.layer(part.key)
        return list(layer.reveal if part.kind == "reveal" else layer.hints)
    challenge = next(c for c in persona.challenges if c.id == part.key)
    return list(
        {"challenge": challenge.line, "challenge_passed": challenge.passed}.get(part.kind, challenge.failed)
    )


def pick_line(lines: Sequence[str], prefix: str, used: set[str], seed: int | str) -> tuple[str, str]:
    """Choose one line deterministically, preferring lines not yet used; returns (line, key)."""
    fresh = [i for i in range(len(lines)) if f"{prefix}:{i}" not in used]
    index = random.Random(f"{seed}:{prefix}").choice(fresh or list(range(len(lines))))
    return lines[index], f"{prefix}:{index}"


def plan_lines(request: VoiceRequest) -> list[tuple[ReplyPart, str, str]]:
    """The authored line for each part of the plan, as (part, line, key): what the offline voice says."""
    used = set(request.state.used_lines)
    chosen: list[tuple[ReplyPart, str, str]] = []
    for part in request.plan.parts:
        lines = authored_lines(request.persona, part)
        if not lines:
            continue
        prefix = f"{part.kind}:{part.key}"
        line, key = pick_line(lines, prefix, used, f"{request.seed}:{request.turn_number}")
        used.add(key)
        chosen.append((part, line, key))
    return chosen


def offline_voice(request: VoiceRequest) -> Utterance:
    """Speak the plan from the persona's authored lines."""
    chosen = plan_lines(request)
    return Utterance(text=" ".join(line for _, line, _ in chosen), used=[key for _, _, key in chosen])


def opening_line(persona: Persona, seed: int) -> Utterance:
    line, key = pick_line(persona.opening, "opening", set(), seed)
    return Utterance(text=line, used=[key])
