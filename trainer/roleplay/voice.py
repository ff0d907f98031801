"""The seam that puts a ReplyPlan into words, and the offline voice that speaks from authored lines.

Every voice gets the same VoiceRequest; the offline one needs no network and is deterministic for a seed,
never repeating a line while another is still unused.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trainer.roleplay.persona import ReplyPart, ReplyPlan
from trainer.schema import Persona, PersonaState, Scenario, Turn
from trainer.text import sentences


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
    # Short lines for when a reaction's own lines are used up, by tone (rubrics/acknowledgements.yaml).
    acknowledgements: Mapping[str, Sequence[str]] = field(default_factory=dict)


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
    if part.kind == "fact":
        return [persona.facts[int(part.key)].says]
    if part.kind == "ack":  # the shared lines come with the request; a rubric folder without them: these
        return list(persona.reactions.closed_question)
    if part.kind == "recall":  # shared lines only (acknowledgements.yaml); without them, the reveal alone
        return []
    if part.kind in ("reveal", "hint", "elaborate"):
        layer = persona.layer(part.key)
        return list({"reveal": layer.reveal, "hint": layer.hints}.get(part.kind, layer.elaborate))
    challenge = next(c for c in persona.challenges if c.id == part.key)
    return list(
        {"challenge": challenge.line, "challenge_passed": challenge.passed}.get(part.kind, challenge.failed)
    )


def sentence_keys(text: str) -> set[str]:
    """The text's sentences as compared for "said twice": lower-cased, spacing ignored."""
    return {" ".join(s.split()).lower() for s in sentences(text)}


def pick_line(
    lines: Sequence[str], prefix: str, used: set[str], seed: int | str, said: set[str] = frozenset()
) -> tuple[str, str]:
    """Choose one line deterministically, preferring lines not yet used and, among those, lines with no
    sentence already said in the session ("Okay." opening two different lines); returns (line, key)."""
    fresh = [i for i in range(len(lines)) if f"{prefix}:{i}" not in used]
    new = [i for i in fresh if not sentence_keys(lines[i]) & said]
    index = random.Random(f"{seed}:{prefix}").choice(new or fresh or list(range(len(lines))))
    return lines[index], f"{prefix}:{index}"


# Which acknowledgements may stand in for a used-up pool; other reactions (goodbye, ...) come once.
TONE = {
    "open_question": "engaged", "closed_question": "engaged", "reflection": "engaged", "insight": "engaged",
    "pitched": "cool", "off_topic": "cool", "next_step_early": "cool", "guarded": "cool",
}  # fmt: skip


def _spent(lines: Sequence[str], prefix: str, used: set[str]) -> bool:
    return all(f"{prefix}:{i}" in used for i in range(len(lines)))


def plan_lines(request: VoiceRequest) -> list[tuple[ReplyPart, str, str]]:
    """The authored line for each part of the plan, as (part, line, key): what the offline voice says.

    No sentence is said twice while there is another way: a used-up hint is left out, and a used-up
    reaction or "say more" pool gives way to a short acknowledgement (rubrics/acknowledgements.yaml).
    """
    used = set(request.state.used_lines)
    said = set().union(*(sentence_keys(t.text) for t in request.turns if t.speaker == "persona"))
    chosen: list[tuple[ReplyPart, str, str]] = []
    seed = f"{request.seed}:{request.turn_number}"
    for part in request.plan.parts:
        lines = authored_lines(request.persona, part)
        prefix = f"{part.kind}:{part.key}"
        if part.kind == "ack" and request.acknowledgements.get(part.key):
            lines = list(request.acknowledgements[part.key])
        if part.kind == "recall":
            lines, prefix = list(request.acknowledgements.get("recall", ())), "ack:recall"
        if not lines:
            continue
        if _spent(lines, prefix, used):
            if part.kind in ("hint", "recall"):
                continue  # every line was said: better left out than said again
            tone = (
                "engaged"
                if part.kind == "elaborate"
                else TONE.get(part.key)
                if part.kind == "reaction"
                else None
            )
            spare = list(request.acknowledgements.get(tone or "", ()))
            if spare and not _spent(spare, f"ack:{tone}", used):
                lines, prefix = spare, f"ack:{tone}"
        line, key = pick_line(lines, prefix, used, seed, said)
        used.add(key)
        said |= sentence_keys(line)
        chosen.append((part, line, key))
    return chosen


def offline_voice(request: VoiceRequest) -> Utterance:
    """Speak the plan from the persona's authored lines."""
    chosen = plan_lines(request)
    return Utterance(text=" ".join(line for _, line, _ in chosen), used=[key for _, _, key in chosen])


def opening_line(persona: Persona, seed: int) -> Utterance:
    line, key = pick_line(persona.opening, "opening", set(), seed)
    return Utterance(text=line, used=[key])
