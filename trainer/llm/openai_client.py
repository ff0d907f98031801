"""The OpenAI-compatible backend: one `OpenAIChatModel` for any server that speaks the chat API.

Retries are tenacity's alone (bounded in tries and in total time, backoff with jitter, the server's
Retry-After wins), a stream cut mid-reply counts as a dropped connection, and a failure reaches people as
one sentence without the key, in words even when the server answered with something that is not a reply.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
from pydantic import BaseModel
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from trainer.llm.seam import (
    Completion,
    ModelUnavailable,
    Request,
    TokenCallback,
    parse_structured,
    redact,
    schema_spec,
    wire_messages,
)
from trainer.llm.usage import Usage, estimate_tokens


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter; a server's Retry-After wins when given.

    `budget` bounds the whole call, every attempt and every wait included: a rep waits that long at most
    (each attempt's timeout is cut to what is left, and no wait runs past it).
    """

    attempts: int = 4
    initial: float = 0.5
    maximum: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0
    budget: float = 30.0


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


class BadReply(RuntimeError):
    """The server answered 200 with something that is not a chat reply; str() says what, for people."""


# What follows "The model server at HOST " when a 200 is not a reply.
FIX_URL = "so nothing was changed: is the base URL right (…/v1)?"
HTML = f"answered with HTML, not JSON, {FIX_URL}"
NOT_JSON = (
    "answered, but its reply was not valid JSON; nothing was changed, so you can send the same turn again."
)
NOT_COMPLETION = f"answered with JSON that is not a chat completion, {FIX_URL}"
NOT_A_STREAM = "answered a streamed request with one JSON body, not a stream of events; nothing was changed."


def _not_a_reply(text: str) -> BadReply:
    """What a 200 body that is no reply was, in words: a web page (a wrong address) or broken JSON."""
    return BadReply(HTML if text.lstrip()[:1] == "<" else NOT_JSON)


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
    connection errors are retried up to `retry.attempts` times in all, within `retry.budget` seconds;
    anything else fails at once.
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
        self.timeout = timeout
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

    def complete(self, request: Request, stream_cb: TokenCallback | None = None) -> Completion:
        schema = request.schema
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": wire_messages(request.messages),
            "temperature": request.temperature,
        }
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        relay = _Relay(stream_cb) if stream_cb is not None and schema is None else None
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts) | stop_before_delay(self.retry.budget),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        deadline = time.monotonic() + self.retry.budget
        tries = 0
        try:
            for attempt in retrying:
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    timeout = max(0.05, min(self.timeout, deadline - time.monotonic()))
                    if schema is not None:
                        kwargs["response_format"] = self._response_format(schema)
                    if relay is not None:
                        relay.restart()
                        text, usage = self._stream(kwargs, relay, timeout, deadline)
                    else:
                        text, usage = self._once(kwargs, timeout)
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            if schema is None or self.structured != "json_schema":
                raise self._unavailable(exc, tries) from None
            self.structured = (
                "json_object"  # the server knows only the older JSON mode: ask that way from now on
            )
            return self.complete(request, stream_cb)
        except Exception as exc:
            raise self._unavailable(exc, tries) from None
        return Completion(text=text, parsed=parse_structured(text, schema), usage=usage, model=request.model)

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        spec = schema_spec(schema) or {}
        if self.structured == "json_object":
            return {"type": "json_object", "schema": spec["schema"]}
        return {"type": "json_schema", "json_schema": {**spec, "strict": True}}

    def _unavailable(self, exc: BaseException, tries: int) -> ModelUnavailable:
        """One sentence for the person at the keyboard (the call's label is for logs, not for them)."""
        if isinstance(exc, json.JSONDecodeError):  # the SDK parsing a body sent as JSON, or an event
            exc = _not_a_reply(exc.doc)
        if isinstance(exc, BadReply):
            return ModelUnavailable(f"The model server at {self.host} {exc}")
        if _retryable(exc):
            resend = "nothing was changed, so you can send the same turn again."
            if tries < self.retry.attempts:  # the time ran out before the tries did
                return ModelUnavailable(
                    f"The model server at {self.host} did not answer within {self.retry.budget:g} s "
                    f"({_reason(exc)}, {tries} attempt{'s' if tries != 1 else ''}); {resend}"
                )
            n = self.retry.attempts
            return ModelUnavailable(
                f"The model server at {self.host} did not answer after {n} attempt{'s' if n != 1 else ''} "
                f"({_reason(exc)}); {resend}"
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

    def _once(self, kwargs: dict[str, Any], timeout: float) -> tuple[str, Usage]:
        response = self.client.chat.completions.create(**kwargs, timeout=timeout)
        if isinstance(response, str):  # the SDK hands back the text of a body that is not JSON
            raise _not_a_reply(response)
        choices = getattr(response, "choices", None)
        if choices is None:
            raise BadReply(NOT_COMPLETION)
        text = (choices[0].message.content or "") if choices else ""
        return text, self._usage(response.usage, kwargs, text)

    def _stream(
        self, kwargs: dict[str, Any], stream_cb: TokenCallback, timeout: float, deadline: float
    ) -> tuple[str, Usage]:
        extra = {"stream_options": {"include_usage": True}} if self.stream_usage else {}
        pieces: list[str] = []
        reported = None
        finished = False
        with self.client.chat.completions.create(**kwargs, stream=True, timeout=timeout, **extra) as stream:
            content_type = stream.response.headers.get("content-type", "")
            if "html" in content_type:  # a web page where the API should be
                raise BadReply(HTML)
            if "json" in content_type:  # one JSON body, not events: broken JSON says so (JSONDecodeError)
                json.loads(stream.response.read())
                raise BadReply(NOT_A_STREAM)
            for chunk in stream:
                if time.monotonic() > deadline:  # a reply trickling in slower than the budget allows
                    raise httpx.ReadTimeout("the reply stream outlasted the call's time budget")
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
