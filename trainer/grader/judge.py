"""An LLM judge for one trainee turn, behind the same labels as the offline classifier.

It asks for JSON matching `JudgeVerdict` (structured output). A reply that cannot be parsed gives None:
the caller keeps the offline label and marks the turn unscored, so a bad verdict is never a silent zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trainer.grader import moves
from trainer.llm.seam import ChatModel, Message, Request
from trainer.prompts import prompt_file, prompts_root, render
from trainer.schema import Assessment


class JudgeVerdict(BaseModel):
    """The judge's answer; each field's description is its instruction (strict JSON schema, no nulls)."""

    model_config = ConfigDict(extra="forbid")

    focus: Literal["customer", "pitch", "neutral"] = Field(description="Who the turn is about.")
    question: Literal["open", "closed", "none"] = Field(description="The turn's question, if any.")
    spin: Literal["situation", "problem", "implication", "need_payoff", "none"] = Field(
        description="SPIN type of a customer-focused question, else none."
    )
    depth: Literal["situation", "problem", "implication", "outcome", "personal", "none"] = Field(
        description="What a customer-focused turn probes, else none."
    )
    follow_up: bool = Field(description="The turn asks them to go on about what they just said.")
    evidence: str = Field(description="A short quote from the turn that justifies the focus.")


def judge_messages(text: str, context: str | None, root: Path) -> list[Message]:
    """The judge's system prompt and the one turn to label, from the prompt files."""
    return [
        {"role": "system", "content": render(prompt_file(root, "judge_system.md"), {})},
        {
            "role": "user",
            "content": render(
                prompt_file(root, "judge_turn.md"), {"text": text, "context": context or "(nothing yet)"}
            ),
        },
    ]


def llm_assess(
    text: str,
    context: str | None,
    chat_model: ChatModel,
    model: str,
    *,
    temperature: float = 0.0,
    prompts: Path | None = None,
    label: str | None = None,
) -> dict[str, Any] | None:
    """Labels for one turn (`focus`, `question`, `spin`, `evidence`, `usage`), or None when unparseable.

    Model errors (ModelUnavailable, ReplayMiss) propagate: an unavailable judge is not an unscored turn.
    """
    completion = chat_model.complete(
        Request(
            judge_messages(text, context, prompts or prompts_root()),
            model=model,
            temperature=temperature,
            schema=JudgeVerdict,
            label=label or "judge",
        )
    )
    verdict = completion.parsed
    if verdict is None:
        return None
    question = None if verdict["question"] == "none" else verdict["question"]
    spin = (
        None
        if verdict["spin"] == "none" or verdict["focus"] != "customer" or not question
        else verdict["spin"]
    )
    customer = verdict["focus"] == "customer"
    depth = verdict.get("depth")
    return {
        "focus": verdict["focus"],
        "question": question,
        "spin": spin,
        "depth": depth if customer and depth not in (None, "none") else None,
        "follow_up": bool(customer and verdict.get("follow_up")),
        "evidence": [verdict["evidence"]] if verdict["evidence"].strip() else [],
        "judge": f"llm:{model}",
        "usage": {model: completion.usage.model_dump()},
    }


def judged(offline: Assessment, verdict: dict[str, Any] | None) -> Assessment:
    """The offline assessment with the judge's labels, or flagged unscored when there is no verdict."""
    if verdict is None:
        return offline.model_copy(update={"unscored": True, "judge": "offline"})
    move = moves.move_of(offline.text, verdict["focus"], verdict["question"])
    return offline.model_copy(
        update={
            "focus": verdict["focus"],
            "question": verdict["question"],
            "spin": verdict["spin"],
            "depth": verdict.get("depth"),
            "follow_up": verdict.get("follow_up", False),
            "move": move,
            "evidence": verdict["evidence"] + offline.evidence,
            "judge": verdict["judge"],
            "confidence": None,
        }
    )
