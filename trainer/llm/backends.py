"""The one seam between trainer and a language model: `ChatModel.complete`, with every backend behind it.

Backends: `OpenAIChatModel` (any OpenAI-compatible server, tenacity-owned retries), `ReplayChatModel`
(serves recorded exchanges, no network), `RecordingChatModel` (wraps a real one and writes cassettes) and
`ScriptedChatModel` (a fake for tests). Nothing else in trainer talks to a model, so retries, records
and usage live in one place.
"""

from __future__ import annotations

import difflib
import email.utils
import hashlib
import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from trainer.llm.usage import Usage, estimate_tokens

Message = dict[str, str]
TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class Completion:
    text: str
    parsed: dict[str, Any] | None = None
    usage: Usage = field(default_factory=lambda: Usage(calls=1))
    model: str = ""


class ChatModel(Protocol):
    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        temperature: float,
        schema: type[BaseModel] | None = None,
        stream_cb: TokenCallback | None = None,
        label: str | None = None,
    ) -> Completion:
        """One chat completion; `schema` asks for JSON matching it, `stream_cb` gets tokens as they come.

        `label` names the call for people ("persona turn 3"): it appears in cassettes and replay errors.
        """
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


def request_body(
    messages: Sequence[Message], model: str, temperature: float, schema: type[BaseModel] | None
) -> dict[str, Any]:
    """What matters in a request: the cassette key is a hash of exactly this (no headers, no keys)."""
    return {
        "model": model,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "temperature": temperature,
        "schema": schema_spec(schema),
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


# ---------------------------------------------------------------- the OpenAI-compatible backend


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter; a server's Retry-After wins when given."""

    attempts: int = 4
    initial: float = 0.5
    maximum: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | httpx.TransportError)


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `retry-after` seconds or HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


class StreamCut(httpx.RemoteProtocolError):
    """The reply stream closed before the server said it was finished: retried like a dropped connection."""


class _Relay:
    """Passes streamed words to the listener once, across retries of the same call.

    A retry starts the reply again: words the listener already heard are not repeated, and if the new
    attempt says something different the rest is held back (the stored reply is what the screen ends on).
    """

    def __init__(self, listener: TokenCallback) -> None:
        self.listener = listener
        self.heard = ""  # everything passed on so far, over all attempts
        self.attempt = ""  # this attempt's text so far
        self.diverged = False

    def restart(self) -> None:
        self.attempt = ""

    def __call__(self, token: str) -> None:
        self.attempt += token
        if self.diverged:
            return
        if len(self.attempt) <= len(self.heard):
            self.diverged = not self.heard.startswith(self.attempt)
        elif self.attempt.startswith(self.heard):
            new = self.attempt[len(self.heard) :]
            self.heard = self.attempt
            self.listener(new)
        else:
            self.diverged = True


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StreamCut):
        return "the reply stream broke off"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, openai.APIStatusError):
        return {429: "rate limited (429)"}.get(exc.status_code, f"HTTP {exc.status_code}")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return "could not connect"
    return type(exc).__name__


class OpenAIChatModel:
    """Any OpenAI-compatible server (OpenAI, Azure-style gateways, Ollama, vLLM, llama.cpp, LM Studio).

    The SDK's own retries are off (`max_retries=0`) so tenacity alone decides: 429, 5xx, timeouts and
    connection errors are retried up to `retry.attempts` times in all; anything else fails at once.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        max_tokens: int | None = 200,
        stream_usage: bool = True,
        structured: str = "json_schema",
        client: openai.OpenAI | None = None,
    ) -> None:
        self._api_key = api_key
        self.client = client or openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", max_retries=0, timeout=timeout
        )
        self.retry = retry or RetryPolicy()
        self.max_tokens = max_tokens
        self.stream_usage = stream_usage
        self.structured = structured  # "json_schema" (OpenAI, vLLM, Ollama) or "json_object" (llama.cpp)
        self.host = urlsplit(str(self.client.base_url)).netloc or str(self.client.base_url)

    def _wait(self, state: RetryCallState) -> float:
        hinted = retry_after(state.outcome.exception() if state.outcome else None)
        if hinted is not None:
            return min(hinted, self.retry.max_retry_after)
        backoff = wait_exponential_jitter(
            multiplier=self.retry.initial, max=self.retry.maximum, jitter=self.retry.jitter
        )
        return backoff(state)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        temperature: float,
        schema: type[BaseModel] | None = None,
        stream_cb: TokenCallback | None = None,
        label: str | None = None,
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": temperature,
        }
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        relay = _Relay(stream_cb) if stream_cb is not None and schema is None else None
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if schema is not None:
                        kwargs["response_format"] = self._response_format(schema)
                    if relay is not None:
                        relay.restart()
                        text, usage = self._stream(kwargs, relay)
                    else:
                        text, usage = self._once(kwargs)
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            if schema is None or self.structured != "json_schema":
                raise self._unavailable(exc) from None
            self.structured = (
                "json_object"  # the server knows only the older JSON mode: ask that way from now on
            )
            return self.complete(
                messages,
                model=model,
                temperature=temperature,
                schema=schema,
                stream_cb=stream_cb,
                label=label,
            )
        except Exception as exc:
            raise self._unavailable(exc) from None
        return Completion(text=text, parsed=parse_structured(text, schema), usage=usage, model=model)

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        spec = schema_spec(schema) or {}
        if self.structured == "json_object":
            return {"type": "json_object", "schema": spec["schema"]}
        return {"type": "json_schema", "json_schema": {**spec, "strict": True}}

    def _unavailable(self, exc: BaseException) -> ModelUnavailable:
        """One sentence for the person at the keyboard (the call's label is for logs, not for them)."""
        if _retryable(exc):
            n = self.retry.attempts
            return ModelUnavailable(
                f"The model server at {self.host} did not answer after {n} attempt{'s' if n != 1 else ''} "
                f"({_reason(exc)}); nothing was changed, so you can send the same turn again."
            )
        detail = ""
        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            message = str(body.get("message") or body.get("detail") or "")
            detail = f": {redact(message, self._api_key)[:160]}" if message else ""
            if exc.status_code in (401, 403):
                detail += "; check OPENAI_API_KEY"
        return ModelUnavailable(
            f"The model server at {self.host} refused the request ({_reason(exc)}{detail}); "
            "nothing was changed."
        )

    def _once(self, kwargs: dict[str, Any]) -> tuple[str, Usage]:
        response = self.client.chat.completions.create(**kwargs)
        text = (response.choices[0].message.content or "") if response.choices else ""
        return text, self._usage(response.usage, kwargs, text)

    def _stream(self, kwargs: dict[str, Any], stream_cb: TokenCallback) -> tuple[str, Usage]:
        extra = {"stream_options": {"include_usage": True}} if self.stream_usage else {}
        pieces: list[str] = []
        reported = None
        finished = False
        with self.client.chat.completions.create(**kwargs, stream=True, **extra) as stream:
            for chunk in stream:
                if chunk.usage is not None:
                    reported = chunk.usage
                for choice in chunk.choices or []:
                    token = choice.delta.content if choice.delta else None
                    if token:
                        pieces.append(token)
                        stream_cb(token)
                    finished = finished or choice.finish_reason is not None
        if not finished:
            # A connection dropped mid-reply ends the SSE stream quietly; half a sentence is not a reply.
            raise StreamCut("the reply stream ended before the server finished the reply")
        text = "".join(pieces)
        return text, self._usage(reported, kwargs, text)

    @staticmethod
    def _usage(reported: Any, kwargs: dict[str, Any], text: str) -> Usage:
        if reported is not None and getattr(reported, "prompt_tokens", None) is not None:
            return Usage(
                calls=1,
                prompt_tokens=reported.prompt_tokens or 0,
                completion_tokens=reported.completion_tokens or 0,
            )
        prompt = sum(estimate_tokens(m["content"]) for m in kwargs["messages"])
        return Usage(calls=1, prompt_tokens=prompt, completion_tokens=estimate_tokens(text), estimated=True)


# ---------------------------------------------------------------- cassettes: record and replay


def exchange_record(
    body: dict[str, Any], completion: Completion, *, case: str | None, label: str | None
) -> dict[str, Any]:
    """One line of a cassette: readable, keyed, and free of headers and keys by construction."""
    return {
        "key": request_key(body),
        "case": case,
        "label": label,
        "request": body,
        "response": {"text": completion.text, "usage": completion.usage.model_dump()},
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class Cassette:
    """A JSON Lines file of exchanges: a new recording replaces the old file; appends are thread-safe.

    The file appears with the first exchange, so a case that makes no model call leaves no cassette.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.unlink(missing_ok=True)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


class RecordingChatModel:
    """Passes every call to a real model and writes the exchange to a cassette."""

    def __init__(self, inner: ChatModel, cassette: Cassette, case: str | None = None) -> None:
        self.inner, self.cassette, self.case = inner, cassette, case

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        temperature: float,
        schema: type[BaseModel] | None = None,
        stream_cb: TokenCallback | None = None,
        label: str | None = None,
    ) -> Completion:
        completion = self.inner.complete(
            messages, model=model, temperature=temperature, schema=schema, stream_cb=stream_cb, label=label
        )
        body = request_body(messages, model, temperature, schema)
        self.cassette.append(exchange_record(body, completion, case=self.case, label=label))
        return completion


class CassetteLibrary:
    """Every exchange under a folder of cassettes, by key; loaded once, shared by replaying cases."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.records: list[dict[str, Any]] = []
        for path in sorted(root.rglob("*.jsonl")) if root.is_dir() else []:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    key = record["key"]
                except (ValueError, KeyError, TypeError):
                    raise ReplayMiss(f"{path}:{number}: not a cassette line (re-record it)") from None
                self.by_key[key].append(record)
                self.records.append(record)

    def nearest(self, body: dict[str, Any], case: str | None, label: str | None) -> dict[str, Any] | None:
        """The recording most like this request: same case and call first, then the most similar text."""
        pool = [r for r in self.records if r.get("case") == case and r.get("label") == label]
        pool = pool or [r for r in self.records if r.get("case") == case] or self.records
        if not pool:
            return None
        text = json.dumps(body, sort_keys=True, ensure_ascii=False)

        def similarity(record: dict[str, Any]) -> float:
            other = json.dumps(record["request"], sort_keys=True, ensure_ascii=False)
            return difflib.SequenceMatcher(None, text, other, autojunk=False).quick_ratio()

        return max(pool, key=similarity)


def diff_hint(recorded: dict[str, Any], now: dict[str, Any]) -> str:
    """Where two requests first differ, in words: the field and a snippet of each side."""
    for name in ("model", "temperature", "schema"):
        if recorded.get(name) != now.get(name):
            before, after = json.dumps(recorded.get(name))[:80], json.dumps(now.get(name))[:80]
            return f"{name}: recorded {before} vs now {after}"
    old, new = recorded.get("messages", []), now.get("messages", [])
    for index, (a, b) in enumerate(zip(old, new, strict=False)):
        if a == b:
            continue
        if a["role"] != b["role"]:
            return f"messages[{index}].role: recorded {a['role']!r} vs now {b['role']!r}"
        at = next(
            (i for i, (x, y) in enumerate(zip(a["content"], b["content"], strict=False)) if x != y), None
        )
        at = min(len(a["content"]), len(b["content"])) if at is None else at
        start = max(0, at - 30)
        return (
            f"messages[{index}] ({a['role']}) at character {at}: recorded {a['content'][start : at + 40]!r} "
            f"vs now {b['content'][start : at + 40]!r}"
        )
    return f"message count: recorded {len(old)} vs now {len(new)}"


class ReplayChatModel:
    """Serves recorded replies only; a request with no recording fails at once, naming what differs."""

    def __init__(self, library: CassetteLibrary, case: str | None = None, hint: str = "") -> None:
        self.library, self.case, self.hint = library, case, hint
        self._served: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        temperature: float,
        schema: type[BaseModel] | None = None,
        stream_cb: TokenCallback | None = None,
        label: str | None = None,
    ) -> Completion:
        body = request_body(messages, model, temperature, schema)
        key = request_key(body)
        recorded = self.library.by_key.get(key)
        if not recorded:
            raise ReplayMiss(self._miss(body, key, label))
        with self._lock:  # the same request recorded twice (a repeated turn) replays in order
            index = min(self._served[key], len(recorded) - 1)
            self._served[key] += 1
        response = recorded[index]["response"]
        text = response["text"]
        if stream_cb is not None:
            for piece in stream_pieces(text):
                stream_cb(piece)
        usage = Usage.model_validate(response.get("usage") or {"calls": 1})
        return Completion(text=text, parsed=parse_structured(text, schema), usage=usage, model=model)

    def _miss(self, body: dict[str, Any], key: str, label: str | None) -> str:
        where = f"case {self.case!r}, " if self.case else ""
        message = f"replay: no recording for {where}{label or 'this call'} (request key {key})"
        near = self.library.nearest(body, self.case, label)
        if near is None:
            message += f"; no cassettes under {self.library.root}"
        else:
            near_label = near.get("label") or "a call"
            near_case = f" of case {near['case']!r}" if near.get("case") != self.case else ""
            message += (
                f"; nearest recording ({near_label}{near_case}) differs in {diff_hint(near['request'], body)}"
            )
        return message + (f". {self.hint}" if self.hint else ".")


# ---------------------------------------------------------------- a scripted fake for tests


Reply = str | BaseException | Callable[[list[Message]], str]


class ScriptedChatModel:
    """Plays queued replies in order and keeps every request; `assert_used_up` fails a test with leftovers.

    A reply may be text, an exception to raise, or a function of the messages. `responder`, when given,
    answers once the queue is empty (long sessions); without it, an unexpected call fails the test.
    """

    def __init__(
        self, replies: Iterable[Reply] = (), responder: Callable[[list[Message]], str] | None = None
    ):
        self.replies: deque[Reply] = deque(replies)
        self.responder = responder
        self.requests: list[dict[str, Any]] = []

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        temperature: float,
        schema: type[BaseModel] | None = None,
        stream_cb: TokenCallback | None = None,
        label: str | None = None,
    ) -> Completion:
        body = request_body(messages, model, temperature, schema)
        self.requests.append({**body, "label": label})
        if self.replies:
            reply = self.replies.popleft()
        elif self.responder is not None:
            reply = self.responder
        else:
            raise AssertionError(f"ScriptedChatModel: no reply left for {label or 'a call'}")
        if isinstance(reply, BaseException):
            raise reply
        text = reply(list(body["messages"])) if callable(reply) else reply
        if stream_cb is not None:
            for piece in stream_pieces(text):
                stream_cb(piece)
        prompt = sum(estimate_tokens(m["content"]) for m in body["messages"])
        usage = Usage(calls=1, prompt_tokens=prompt, completion_tokens=estimate_tokens(text), estimated=True)
        return Completion(text=text, parsed=parse_structured(text, schema), usage=usage, model=model)

    def assert_used_up(self) -> None:
        assert not self.replies, f"ScriptedChatModel: {len(self.replies)} scripted repl(ies) never requested"
