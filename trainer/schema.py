"""The shapes everything else agrees on: catalog files, persona state, scorecards, and (from trainer/turns.py)
transcripts and assessments.

Catalog models are strict (`extra="forbid"`) so a typo in a manager's YAML is an error, not a silent default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The shapes of turns and their judgement live in trainer/turns.py; named here too, so that every shape
# of the trainer can be imported from this one module.
from trainer.turns import Assessment as Assessment
from trainer.turns import Depth as Depth
from trainer.turns import Focus as Focus
from trainer.turns import Move
from trainer.turns import QuestionKind as QuestionKind
from trainer.turns import Speaker as Speaker
from trainer.turns import Spin as Spin
from trainer.turns import Transcript as Transcript
from trainer.turns import Turn as Turn

LayerKind = Literal["over_here", "over_there", "so_i_can"]
EndReason = Literal["turn_limit", "patience", "objective_met", "goodbye"]

LAYER_ORDER: tuple[LayerKind, ...] = ("over_here", "over_there", "so_i_can")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


Lines = list[str]


def _non_empty_lines(value: list[str]) -> list[str]:
    cleaned = [line.strip() for line in value]
    if not cleaned or any(not line for line in cleaned):
        raise ValueError("needs at least one non-empty line")
    return cleaned


# ---------------------------------------------------------------- personas


class Unlock(Strict):
    """What a trainee must earn before the persona tells this layer."""

    min_trust: int = Field(ge=0, le=100, description="Trust the persona must feel before telling it.")
    topics: list[str] = Field(min_length=1, description="Topics (rubrics/topics.yaml) a question must touch.")
    requires: list[str] = Field(default_factory=list, description="Layer ids that must be told first.")


class HiddenLayer(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    layer: LayerKind
    fact: str = Field(min_length=1, description="The motive in the third person, for prompts and managers.")
    unlock: Unlock
    reveal: Lines = Field(description="First-person lines the persona says when it opens this layer.")
    hints: Lines = Field(default_factory=list, description="Lines that hint at the layer without telling it.")
    elaborate: Lines = Field(
        default_factory=list, description="Lines that say more about the layer once it is open (follow-ups)."
    )

    _lines = field_validator("reveal")(_non_empty_lines)


class Fact(Strict):
    """A plain fact the persona gives when asked for it in so many words ("How many people report to you?").

    A one-fact question deserves a brief, true answer rather than "Yes." or "More or less."; facts are
    what anyone may know, or, with `layer`, what the persona says only once that layer is open.
    """

    says: str = Field(min_length=1, description="The persona's brief answer, first person, one sentence.")
    about: list[str] = Field(min_length=1, description="Words a question asking for it uses (team, budget).")
    layer: str | None = Field(default=None, description="Only once this hidden layer is open.")


class Reactions(Strict):
    """Authored lines, one list per trainee move; the offline engine speaks only from these."""

    pitched: Lines
    closed_question: Lines
    open_question: Lines
    reflection: Lines
    insight: Lines
    next_step_early: Lines
    next_step_accepted: Lines
    off_topic: Lines
    guarded: Lines = Field(description="A question touches a motive the rep has not yet earned.")
    patience_out: Lines = Field(description="The persona ends the meeting after too much pitching.")
    goodbye: Lines = Field(description="The rep closes the meeting.")
    turn_limit: Lines = Field(description="Time is up.")

    @model_validator(mode="after")
    def _every_list_has_lines(self) -> Reactions:
        for name in type(self).model_fields:
            _non_empty_lines(getattr(self, name))
        return self


class Challenge(Strict):
    """A test the persona puts to the rep; the next turn passes if it refocuses on the customer."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    at_turn: int = Field(ge=0, description="Raised after this trainee turn (0 = in the opening).")
    line: Lines = Field(description="What the persona says to raise it (unused when at_turn is 0).")
    recover_topics: list[str] = Field(default_factory=list, description="Topics a good recovery touches.")
    passed: Lines
    failed: Lines


class TrustRules(Strict):
    """How one trainee move changes the persona's trust and patience (rubrics/persona_rules.yaml)."""

    open_question: int = 8
    closed_question: int = 1
    reflection: int = 10
    insight: int = 6
    pitch: int = -12
    off_topic: int = -3
    next_step_early: int = -6
    builds_on: int = 5
    topic: int = 3
    challenge_passed: int = 12
    challenge_failed: int = -10
    pitch_patience: float = 1.0
    off_topic_patience: float = 0.5
    next_step_early_patience: float = 0.5
    challenge_failed_patience: float = 1.0


class Persona(Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    title: str
    organisation: str
    style: str = Field(description="How they talk, for the LLM voice and the persona card.")
    opening: Lines
    public: Lines = Field(description="What anyone may know.")
    hidden: list[HiddenLayer] = Field(min_length=1)
    facts: list[Fact] = Field(default_factory=list, description="Brief answers to one-fact questions.")
    reactions: Reactions
    patience: float = Field(gt=0, le=20, description="Pitching tolerated before they end the meeting.")
    start_trust: int = Field(default=20, ge=0, le=100)
    next_step_trust: int = Field(default=60, ge=0, le=100, description="Trust needed to grant a next step.")
    next_step_requires: list[Move] = Field(
        default_factory=list, description="Moves the rep must have made before a next step is granted."
    )
    challenges: list[Challenge] = Field(default_factory=list)
    trust_rules: dict[str, float] = Field(
        default_factory=dict, description="Per-persona overrides of rubrics/persona_rules.yaml."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Persona:
        ids = [layer.id for layer in self.hidden]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"hidden layer ids repeat: {', '.join(sorted(dupes))}")
        for n, fact in enumerate(self.facts):
            if fact.layer is not None and fact.layer not in ids:
                raise ValueError(f"facts.{n}.layer: unknown layer id {fact.layer!r}")
        for n, layer in enumerate(self.hidden):
            for req in layer.unlock.requires:
                if req not in ids:
                    raise ValueError(f"hidden.{n}.unlock.requires: unknown layer id {req!r}")
        unknown = set(self.trust_rules) - set(TrustRules.model_fields)
        if unknown:
            raise ValueError(f"trust_rules: unknown rule {sorted(unknown)[0]!r}")
        return self

    def layer(self, layer_id: str) -> HiddenLayer:
        return next(layer for layer in self.hidden if layer.id == layer_id)


# ---------------------------------------------------------------- scenarios


class Objective(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    kind: Literal["unlock", "next_step", "challenge"]
    target: str | None = Field(default=None, description="The layer or challenge id, for unlock/challenge.")

    @model_validator(mode="after")
    def _target_needed(self) -> Objective:
        if self.kind != "next_step" and not self.target:
            raise ValueError(f"objective {self.id!r}: kind {self.kind!r} needs a target")
        return self


class Scenario(Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    title: str
    persona: str
    setting: str = Field(description="Where, when, what just happened.")
    brief: str = Field(description="What the rep knows and sells.")
    objectives: list[Objective] = Field(min_length=1)
    max_turns: int = Field(ge=1, le=60)
    difficulty: Literal["easy", "medium", "hard"]
    pass_mark: int = Field(ge=0, le=100)
    end_when_met: bool = Field(default=True, description="The persona wraps up once every objective is met.")
    our_names: list[str] = Field(
        default_factory=list,
        description="What the rep sells and whom they work for: a turn naming them talks about us (a pitch).",
    )


# ---------------------------------------------------------------- assessment and state


class PersonaState(BaseModel):
    model_config = ConfigDict(defer_build=True)

    trust: int = Field(ge=0, le=100)
    patience: float
    unlocked: list[str] = Field(default_factory=list)
    ended: bool = False
    reason: EndReason | None = None
    challenges: dict[str, Literal["open", "passed", "failed"]] = Field(default_factory=dict)
    next_step_granted: bool = False
    moves: list[str] = Field(default_factory=list, description="Distinct moves the rep has made so far.")
    objectives_met: list[str] = Field(default_factory=list)
    used_lines: list[str] = Field(default_factory=list, description="Line keys already spoken.")
    thread: str | None = Field(
        default=None, description="The layer their last reply opened or hinted at: what a follow-up pursues."
    )
    asked: list[str] = Field(
        default_factory=list,
        description="Layer kinds the rep asked about before they could open: the persona comes back to them.",
    )


# ---------------------------------------------------------------- scorecard


class Evidence(BaseModel):
    model_config = ConfigDict(defer_build=True)

    turn: int
    quote: str
    note: str


class Scorecard(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str | None = None
    scenario: str | None = None
    overall: float
    dimensions: dict[str, float]
    evidence: dict[str, list[Evidence]] = Field(default_factory=dict)
    turns: list[dict] = Field(default_factory=list)
    tips: list[str] = Field(default_factory=list)
    rewrite: dict[str, str] | None = None
    pass_mark: int | None = None
    passed: bool | None = None
