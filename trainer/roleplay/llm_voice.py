"""A persona voice that puts the state machine's plan into a model's words, through any ChatModel.

The model sees only what the persona may say now (see prompts.py) plus the authored line the offline voice
would speak, as an example. A reply that breaks character, coaches the rep or repeats a locked motive is
replaced by that authored line, so a weak or manipulated model cannot change what the rep hears.
"""

from __future__ import annotations

import re
from pathlib import Path

from trainer.llm.seam import ChatModel, Request
from trainer.prompts import prompts_root
from trainer.roleplay.persona_prompt import persona_messages
from trainer.roleplay.reply_guard import reply_problems
from trainer.roleplay.voice import Utterance, VoiceRequest, plan_lines

MAX_CHARS = 600
MAX_SENTENCES = 4


def clean_reply(text: str, name: str) -> str:
    """The persona's words only: no name label, no wrapping quotes, no invented next line of dialogue."""
    first = name.split()[0]
    text = text.strip()
    cut = re.search(
        rf"\n\s*(?:\*\*)?(?:rep|user|sales ?rep|you|{re.escape(first)}[^:\n]{{0,30}}):", text, re.I
    )
    if cut:
        text = text[: cut.start()]
    text = re.sub(
        rf"^(?:\*\*)?(?:{re.escape(name)}|{re.escape(first)})(?:\*\*)?\s*:\s*(?:\*\*)?", "", text, flags=re.I
    )
    text = " ".join(text.split())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    text = text.strip("“”").strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > MAX_SENTENCES:  # the prompt asks for one to three; a rambling model is cut short
        text = " ".join(sentences[:MAX_SENTENCES])
    if len(text) > MAX_CHARS:
        clipped = text[:MAX_CHARS]
        end = max(clipped.rfind(". "), clipped.rfind("? "), clipped.rfind("! "))
        text = clipped[: end + 1] if end > 0 else clipped.rstrip() + "…"
    return text


class LLMVoice:
    """Voice = ChatModel + model name + temperature; callable like `offline_voice`."""

    def __init__(
        self, chat_model: ChatModel, model: str, temperature: float = 0.7, prompts: Path | None = None
    ) -> None:
        self.chat_model = chat_model
        self.model = model
        self.temperature = temperature
        self.prompts = prompts or prompts_root()

    def __call__(self, request: VoiceRequest) -> Utterance:
        chosen = plan_lines(request)
        keys = [key for _, _, key in chosen]
        authored = " ".join(line for _, line, _ in chosen)
        if not chosen:
            return Utterance(text="", used=[])
        plan = request.plan.model_copy(update={"parts": [part for part, _, _ in chosen]})
        messages = persona_messages(
            request.persona,
            request.scenario,
            request.state,
            plan,
            request.turns,
            [line for _, line, _ in chosen],
            self.prompts,
        )
        parts = ", ".join(f"{part.kind}:{part.key}" for part, _, _ in chosen)
        completion = self.chat_model.complete(
            Request(
                messages,
                model=self.model,
                temperature=self.temperature,
                label=f"persona turn {request.turn_number} ({parts})",
            ),
            stream_cb=request.on_token,
        )
        usage = {self.model: completion.usage.model_dump()}
        text = clean_reply(completion.text, request.persona.name)
        problems = (
            ["empty reply"]
            if not text
            else reply_problems(text, request.persona, request.state.unlocked, self.prompts)
        )
        note = "; ".join(problems) if problems else None
        return Utterance(
            text=authored if problems else text,
            used=keys,
            usage=usage,
            streamed=request.on_token is not None,
            note=note,
        )
