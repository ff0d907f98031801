"""Cassettes: record a real model's exchanges to JSON Lines files and replay them with no network.

`RecordingChatModel` wraps a real model and writes each exchange; `ReplayChatModel` serves them by request
key, and a request with no recording fails at once, naming the nearest recording and what differs.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer.llm.seam import (
    ChatModel,
    Completion,
    ReplayMiss,
    Request,
    TokenCallback,
    parse_structured,
    request_body,
    request_key,
    stream_pieces,
)
from trainer.llm.usage import Usage


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

    def complete(self, request: Request, stream_cb: TokenCallback | None = None) -> Completion:
        completion = self.inner.complete(request, stream_cb)
        body = request_body(request)
        self.cassette.append(exchange_record(body, completion, case=self.case, label=request.label))
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

    def complete(self, request: Request, stream_cb: TokenCallback | None = None) -> Completion:
        body = request_body(request)
        key = request_key(body)
        recorded = self.library.by_key.get(key)
        if not recorded:
            raise ReplayMiss(self._miss(body, key, request.label))
        with self._lock:  # the same request recorded twice (a repeated turn) replays in order
            index = min(self._served[key], len(recorded) - 1)
            self._served[key] += 1
        response = recorded[index]["response"]
        text = response["text"]
        if stream_cb is not None:
            for piece in stream_pieces(text):
                stream_cb(piece)
        usage = Usage.model_validate(response.get("usage") or {"calls": 1})
        return Completion(
            text=text, parsed=parse_structured(text, request.schema), usage=usage, model=request.model
        )

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
