"""Test doubles for the model seam: a scripted `ChatModel` that plays queued replies and keeps requests."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from trainer.llm.seam import (
    Completion,
    Message,
    Request,
    TokenCallback,
    parse_structured,
    request_body,
    stream_pieces,
)
from trainer.llm.usage import Usage, estimate_tokens

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

    def complete(self, request: Request, stream_cb: TokenCallback | None = None) -> Completion:
        body = request_body(request)
        self.requests.append({**body, "label": request.label})
        if self.replies:
            reply = self.replies.popleft()
        elif self.responder is not None:
            reply = self.responder
        else:
            raise AssertionError(f"ScriptedChatModel: no reply left for {request.label or 'a call'}")
        if isinstance(reply, BaseException):
            raise reply
        text = reply(list(body["messages"])) if callable(reply) else reply
        if stream_cb is not None:
            for piece in stream_pieces(text):
                stream_cb(piece)
        prompt = sum(estimate_tokens(m["content"]) for m in body["messages"])
        usage = Usage(calls=1, prompt_tokens=prompt, completion_tokens=estimate_tokens(text), estimated=True)
        return Completion(
            text=text, parsed=parse_structured(text, request.schema), usage=usage, model=request.model
        )

    def assert_used_up(self) -> None:
        assert not self.replies, f"ScriptedChatModel: {len(self.replies)} scripted repl(ies) never requested"
