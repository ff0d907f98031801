"""Focus and question type for one turn: the swappable classifier behind `assess`.

The offline judge is the trained model in `turn_model` (pure Python, deterministic); this module is
the one place `assess` asks, so another judge can stand in without touching the persona or grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trainer.grader.classifier import predict
from trainer.schema import Focus, QuestionKind


@dataclass(frozen=True)
class TurnLabel:
    focus: Focus
    question: QuestionKind | None
    evidence: list[str] = field(default_factory=list)
    confidence: float | None = None
    probs: dict[str, float] = field(default_factory=dict)


def label_turn(text: str, context: str | None = None) -> TurnLabel:
    """Label one trainee turn; `context` is the persona's line before it."""
    p = predict(text, context)
    return TurnLabel(p.focus, p.question, list(p.evidence), round(p.confidence, 3), dict(p.probs))  # type: ignore[arg-type]
