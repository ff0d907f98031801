"""Read transcripts from JSON (the INTERFACES.md format) or plain text with speaker prefixes.

Errors name the file, line and field, so a user fixing an upload knows where to look.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from trainer.schema import Transcript, Turn

TRAINEE_NAMES = {
    "rep",
    "trainee",
    "sales",
    "salesperson",
    "seller",
    "agent",
    "me",
    "ae",
    "sdr",
    "interviewer",
    "therapist",
}
PERSONA_NAMES = {
    "customer",
    "client",
    "prospect",
    "buyer",
    "persona",
    "exec",
    "executive",
    "them",
    "lead",
    "patient",
}
_PREFIX = re.compile(r"^\s*\[?([A-Za-z][A-Za-z .'\-]{0,40}?)\]?\s*[:>]\s*(.*)$")


class TranscriptError(ValueError):
    """Bad transcript input; str() is the one-line message for the user."""


def _from_obj(data: object, source: str) -> Transcript:
    if isinstance(data, list):
        data = {"turns": data}
    if not isinstance(data, dict):
        raise TranscriptError(f"{source}: expected a transcript object with a 'turns' list")
    try:
        return Transcript.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise TranscriptError(f"{source}: {where}: {err['msg']}") from None


def parse_plain(text: str, source: str = "<text>") -> Transcript:
    """`Rep: ...` / `Customer: ...` lines; unprefixed lines continue the previous turn."""
    turns: list[Turn] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _PREFIX.match(raw)
        name = match.group(1).strip().lower() if match else ""
        if match and (name in TRAINEE_NAMES or name in PERSONA_NAMES):
            speaker = "trainee" if name in TRAINEE_NAMES else "persona"
            turns.append(Turn(speaker=speaker, text=match.group(2).strip()))
        elif turns:
            turns[-1] = Turn(speaker=turns[-1].speaker, text=f"{turns[-1].text} {raw.strip()}")
        else:
            raise TranscriptError(
                f"{source}: line {number}: expected a speaker prefix such as 'Rep:' or 'Customer:'"
            )
    if not turns:
        raise TranscriptError(f"{source}: no turns found")
    return Transcript(turns=turns)


def parse_transcripts(text: str, source: str) -> list[Transcript]:
    """One JSON transcript, a JSON list of them, JSON Lines of them, or plain text with prefixes."""
    stripped = text.strip()
    if not stripped:
        raise TranscriptError(f"{source}: empty input")
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            if stripped[0] == "{" and "\n" in stripped:
                return _json_lines(stripped, source)
            raise TranscriptError(f"{source}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        if isinstance(data, list) and data and isinstance(data[0], dict) and "turns" in data[0]:
            return [_from_obj(item, f"{source}: item {i}") for i, item in enumerate(data)]
        return [_from_obj(data, source)]
    return [parse_plain(text, source)]


def _json_lines(text: str, source: str) -> list[Transcript]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(_from_obj(json.loads(line), f"{source}: line {number}"))
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{source}: line {number}: invalid JSON ({exc.msg})") from None
    return out


def read_transcripts(path: str, stdin_text: str | None = None) -> list[Transcript]:
    if path == "-":
        return parse_transcripts(stdin_text or "", "<stdin>")
    file = Path(path)
    if not file.is_file():
        raise TranscriptError(f"{path}: no such file")
    transcripts = parse_transcripts(file.read_text(encoding="utf-8"), path)
    for t in transcripts:
        if t.id is None and len(transcripts) == 1:
            t.id = file.stem
    return transcripts
