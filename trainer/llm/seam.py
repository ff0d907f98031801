"""The one seam between trainer and a language model: `ChatModel.complete(request)`, for every backend.

Backends: `OpenAIChatModel` (openai_client.py: any OpenAI-compatible server, tenacity-owned retries),
`ReplayChatModel` (cassettes.py: serves recorded exchanges, no network) and `RecordingChatModel`
(cassettes.py: wraps a real one and writes cassettes). Nothing else in trainer talks to a model, so retries,
records and usage live in one place; this module holds what they all share: the request, the reply, the
errors, the cassette key and structured-output parsing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from trainer.llm.usage import Usage

Message = dict[str, str]
TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class Request:
    """One chat completion asked of a model; `schema` asks for JSON matching it.

    `label` names the call for people ("persona turn 3"): it appears in cassettes and replay errors, and is
    not part of the cassette key (see `request_body`).
    """

    messages: Sequence[Message]
    _: KW_ONLY
    model: str
    temperature: float
    schema: type[BaseModel] | None = None
    label: str | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    parsed: dict[str, Any] | None = None
    usage: Usage = field(default_factory=lambda: Usage(calls=1))
    model: str = ""


class ChatModel(Protocol):
    def complete(self, request: Request, stream_cb: TokenCallback | None = None) -> Completion:
        """One chat completion; `stream_cb` gets tokens as they come (a listener, not part of the request)."""
        ...


class ModelUnavailable(RuntimeError):
    """The model could not answer (retries exhausted or a request it refuses); str() is one sentence."""


class ReplayMiss(RuntimeError):
    """Replay found no recording for a request; str() names the case, the call and the nearest recording."""


# ---------------------------------------------------------------- requests, keys, structured output


def schema_spec(schema: type[BaseModel] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    return {"name": schema.__name__, "schema": schema.model_json_schema()}


def wire_messages(messages: Sequence[Message]) -> list[Message]:
    """The messages as sent and recorded: role and content only."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def request_body(request: Request) -> dict[str, Any]:
    """What matters in a request: the cassette key is a hash of exactly this (no headers, no keys)."""
    return {
        "model": request.model,
        "messages": wire_messages(request.messages),
        "temperature": request.temperature,
        "schema": schema_spec(request.schema),
    }


def request_key(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_structured(text: str, schema: type[BaseModel] | None) -> dict[str, Any] | None:
    """The reply as a dict matching `schema`, or None when it is not (the caller decides what that means)."""
    if schema is None:
        return None
    try:
        return schema.model_validate(json.loads(_FENCE.sub("", text.strip()))).model_dump()
    except (ValueError, ValidationError):
        return None


def stream_pieces(text: str) -> list[str]:
    """Split text into word-sized pieces (spaces kept) to replay a reply as a stream."""
    return re.findall(r"\S+\s*|\s+", text)


# ---------------------------------------------------------------- secrets


_KEY_LIKE = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}")


def redact(text: str, *secrets: str | None) -> str:
    """Remove API keys (the given ones and anything key-shaped) from text meant for people."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)
