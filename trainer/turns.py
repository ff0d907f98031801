"""The shapes of a conversation and its judgement: turns, transcripts, one turn's assessment.

Apart from the catalog's models (trainer/schema.py, which names these too) because `trainer classify`
needs only these: defining the strict catalog models costs it about 7 ms, for files it never reads.
Transcript models ignore unknown fields so transcripts from other systems load.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Focus = Literal["customer", "pitch", "neutral"]
QuestionKind = Literal["open", "closed"]
Spin = Literal["situation", "problem", "implication", "need_payoff"]
# What a customer-focused turn probes (grader/depth.py); which hidden layer that depth can open.
Depth = Literal["situation", "problem", "implication", "outcome", "personal"]
Speaker = Literal["trainee", "persona"]
# What the trainee did, as the persona experiences it; picks the persona's reaction.
Move = Literal[
    "pitch",
    "open_question",
    "closed_question",
    "reflection",
    "insight",
    "next_step",
    "off_topic",
    "goodbye",
]

# ---------------------------------------------------------------- transcripts


class Turn(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    speaker: Speaker
    text: str


class Transcript(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str | None = None
    scenario: str | None = None
    turns: list[Turn]


# ---------------------------------------------------------------- assessment


class Assessment(BaseModel):
    """One trainee turn, judged once; drives the persona and the scorecard."""

    model_config = ConfigDict(defer_build=True)
    turn: int = Field(description="Index of the turn in the transcript.")
    text: str
    focus: Focus
    question: QuestionKind | None
    spin: Spin | None = None
    builds_on: bool = False
    topics: list[str] = Field(default_factory=list)
    move: Move
    evidence: list[str] = Field(default_factory=list)
    confidence: float | None = None
    judge: str = "offline"
    unscored: bool = False
    depth: Depth | None = Field(default=None, description="What a customer-focused turn probes.")
    follow_up: bool = Field(default=False, description="Asks them to go on about what they just said.")
    shares_insight: bool = Field(
        default=False, description="Brings a peer's lesson or a challenge researched, whatever it asks."
    )

    def labels(self) -> dict[str, Any]:
        """This turn's labels in the `trainer classify` shape (its keys in that order)."""
        keys = ("turn", "text", "focus", "question", "spin", "builds_on", "move", "topics", "evidence")
        more = ("depth", "follow_up", "confidence", "judge", "unscored")
        return {key: getattr(self, key) for key in (*keys, *more)}
