"""Focus and question type for one turn: the swappable classifier behind `assess`.

A first rule-based version; the trained model replaces its inside, not its signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trainer.schema import Focus, QuestionKind
from trainer.text import question_sentence, word_pattern

_OPEN_START = word_pattern(
    "what", "how", "why", "tell me", "describe", "walk me through", "talk me through", "help me understand",
    "in what way", "which", "where", "who", "when", "say more", "explain",
)  # fmt: skip
_CLOSED_START = word_pattern(
    "is", "are", "do", "does", "did", "can", "could", "would", "will", "have", "has", "should", "was", "were",
    "shall", "may", "any", "isn't", "aren't", "don't", "doesn't", "won't", "wouldn't", "right", "or",
)  # fmt: skip
_PITCH = word_pattern(
    "our platform", "our product", "our solution", "our service", "our tool", "our team can", "we offer",
    "we provide", "we can", "we help", "we've helped", "we have helped", "we deliver", "we specialise",
    "we specialize", "demo", "pricing", "discount", "feature", "case study", "customers like", "roi",
    "integrat", "sign", "trial", "you should", "you need to", "i recommend", "i'd recommend",
    "wouldn't it be great", "imagine if", "best in class", "market leader", "award", "per seat", "per head",
    "our clients", "let me show", "let me tell you about", "brochure", "dashboard", "ai-powered",
)  # fmt: skip
_REFLECT = word_pattern(
    "so you", "sounds like", "it sounds", "what i'm hearing", "if i understand", "you're saying",
    "you mentioned", "you said", "so the", "so it's", "so your", "it seems", "you feel", "you've got",
)  # fmt: skip
_CUSTOMER = word_pattern("you", "your")
_NEUTRAL = word_pattern(
    "hi", "hello", "thanks", "thank you", "good morning", "good afternoon", "nice to", "great to", "ok",
    "okay", "sure", "weather", "weekend", "coffee",
)  # fmt: skip


@dataclass(frozen=True)
class TurnLabel:
    focus: Focus
    question: QuestionKind | None
    evidence: list[str] = field(default_factory=list)
    confidence: float | None = None


def _question(text: str) -> QuestionKind | None:
    asked = question_sentence(text)
    if asked is None:
        return None
    if _OPEN_START.match(asked.lower().lstrip("\"'( ")):
        return "open"
    return "closed"


def label_turn(text: str, context: str | None = None) -> TurnLabel:
    """Label one trainee turn; `context` is the persona's line before it."""
    low = text.lower()
    if not low.strip():
        return TurnLabel("neutral", None, [], 1.0)
    question = _question(text)
    pitch = _PITCH.findall(low)
    if pitch:
        return TurnLabel("pitch", question, pitch[:3], 0.7)
    reflect = _REFLECT.findall(low)
    if reflect:
        return TurnLabel("customer", question, reflect[:3], 0.7)
    if question and _CUSTOMER.search(low):
        return TurnLabel("customer", question, _CUSTOMER.findall(low)[:1], 0.6)
    if question:
        return TurnLabel("customer", question, [], 0.5)
    return TurnLabel("neutral", None, _NEUTRAL.findall(low)[:2], 0.5)
