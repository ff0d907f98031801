"""The persona's reply as it is spoken: model tokens gathered into a few screen updates, and a whole
authored line revealed in steps, so every reply reads as it streams without one update per token."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from trainer.roleplay.session import SessionView
from trainer.team.app import TrainerApp
from trainer.team.store import User

STREAM_PACE = 0.02  # seconds between chunks when a finished reply is revealed progressively
STREAM_CHUNKS = 10
STREAM_BATCH = 0.05  # seconds of model tokens gathered into one screen update


def reveal(token: str) -> Iterator[str]:
    """Small model tokens pass straight through; a whole authored line, which arrives at once, is
    revealed in a few quick steps so every reply reads as it streams."""
    words = token.split(" ")
    if len(words) <= STREAM_CHUNKS:
        yield token
        return
    step = -(-len(words) // STREAM_CHUNKS)
    for n in range(0, len(words), step):
        if n:
            time.sleep(STREAM_PACE)
        yield (" " if n else "") + " ".join(words[n : n + step])


def play(trainer: TrainerApp, user: User, session_id: str, text: str) -> Iterator[str | SessionView]:
    """Yield the reply's pieces as they are spoken, then the session view; errors are re-raised here."""
    if not trainer.streams:
        view = trainer.send(user, session_id, text)
        yield from reveal(view.last_reply)
        yield view
        return
    tokens: queue.Queue[str | None] = queue.Queue()
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["view"] = trainer.send(user, session_id, text, on_token=tokens.put)
        except BaseException as exc:
            result["error"] = exc
        finally:
            tokens.put(None)

    threading.Thread(target=work, daemon=True).start()
    done = False
    while not done:
        batch = [tokens.get()]
        # Gather what arrives within STREAM_BATCH of the batch's first token (one screen update per
        # batch, not per token), but stop waiting the moment the reply is complete: a reply that
        # arrives at once then goes out with the final view in a single update.
        until = time.monotonic() + STREAM_BATCH
        while batch[-1] is not None:
            left = until - time.monotonic()
            try:
                batch.append(tokens.get(timeout=left) if left > 0 else tokens.get_nowait())
            except queue.Empty:
                break
        done = batch[-1] is None
        pieces = [t for t in batch if t is not None]
        if len(pieces) == 1:
            yield from reveal(pieces[0])  # a whole authored line: reveal it in steps
        elif pieces and not done:  # when the reply is complete, the final view shows it anyway
            yield "".join(pieces)
    if "error" in result:
        raise result["error"]
    yield result["view"]
