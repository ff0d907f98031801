"""Read transcripts from JSON (the INTERFACES.md format) or plain text with speaker prefixes.

Plain text may name its speakers by role ("Rep:", "Customer:") or by name, as a real call's export
does ("Dana Smith: ...", WebVTT "<v Dana Smith>...", a timestamp first); with names, `rep` says
which speaker is the rep. Errors name the file, line and field, so a user fixing an upload knows
where to look.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from trainer.datafiles import TextError, TooDeep, json_problem, load_json, read_text
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
_PREFIX = re.compile(r"^\s*\[?([^\W\d_][\w .'\-]{0,40}?)\]?\s*[:>]\s*(.*)$")
# A call export's furniture: the WebVTT header, cue numbers and timing lines carry no words.
# Only in a subtitle file (one with "-->" timings) do lone numbers and NOTE lines count as furniture.
_VTT_SKIP = re.compile(r"^\s*(?:WEBVTT\b.*|NOTE\b.*|\d+|[\d:.,]+\s*-->\s*[\d:.,]+.*)\s*$")
_VTT_VOICE = re.compile(r"^\s*<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>)?\s*$")
_TIMESTAMP = re.compile(r"^\s*[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?[\])]?\s*[-–]?\s*")


# How the command line asks for the rep's name; the web app words the same request for its form.
REP_HINT = "(--rep NAME)"

# What one input (a file, a paste, stdin) may hold, for `trainer grade` and the app alike. An hour-long
# call's export is about 60 KB and a few hundred turns; these leave room for ten times that.
MAX_TRANSCRIPT_BYTES = 1_000_000
MAX_TURNS = 5_000


class TranscriptError(ValueError):
    """Bad transcript input; str() is the one-line message for the user."""


def check_size(size: int, source: str) -> None:
    """Refuse an input over MAX_TRANSCRIPT_BYTES (checked before a file is read)."""
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            f"{source}: {size:,} bytes is over the limit of {MAX_TRANSCRIPT_BYTES:,} bytes (1 MB) "
            "for one transcript; split the call into parts"
        )


def _check_turns(transcripts: list[Transcript], source: str) -> list[Transcript]:
    for transcript in transcripts:
        if len(transcript.turns) > MAX_TURNS:
            raise TranscriptError(
                f"{source}: {len(transcript.turns):,} turns is over the limit of {MAX_TURNS:,} "
                "for one transcript; split the call into parts"
            )
    return transcripts


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


def _lines(text: str) -> list[tuple[int, str, str | None, bool]]:
    """(line number, words, speaker prefix or None, from a WebVTT voice tag) of each line with words.

    The call export's furniture (WebVTT header, cue numbers and timings, a leading timestamp) is dropped.
    """
    out: list[tuple[int, str, str | None, bool]] = []
    subtitles = "-->" in text
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or (subtitles and _VTT_SKIP.match(raw)):
            continue
        voice = _VTT_VOICE.match(raw)
        if voice:
            out.append((number, voice.group(2).strip(), voice.group(1).strip(), True))
            continue
        line = _TIMESTAMP.sub("", raw, count=1)
        match = _PREFIX.match(line)
        if match:
            out.append((number, match.group(2).strip(), match.group(1).strip(), False))
        else:
            out.append((number, line.strip(), None, False))
    return out


def _speakers(lines: list[tuple[int, str, str | None, bool]], rep_key: str | None) -> set[str]:
    """Prefixes that name a speaker: role words, the rep, full names, voice tags, repeated names.

    A one-word prefix seen once while others repeat ("Note: ...", "PS: ...") is part of the turn.
    """
    counts: dict[str, int] = {}
    for _, _, name, _ in lines:
        if name:
            counts[name.lower()] = counts.get(name.lower(), 0) + 1
    repeated = any(c >= 2 for c in counts.values())
    voiced = {name.lower() for _, _, name, vtt in lines if name and vtt}
    return {
        key
        for key, count in counts.items()
        if key in TRAINEE_NAMES
        or key in PERSONA_NAMES
        or key == rep_key
        or key in voiced
        or " " in key
        or count >= 2
        or not repeated
    }


def parse_plain(text: str, source: str = "<text>", rep: str | None = None) -> Transcript:
    """`Rep: ...` / `Customer: ...` lines, or named speakers with `rep` naming the rep.

    With names, every speaker other than the rep is the customer side. Lines without a speaker
    continue the turn before; consecutive WebVTT cues of one voice are one turn.
    """
    lines = _lines(text)
    rep_key = rep.strip().lower() if rep and rep.strip() else None
    speakers = _speakers(lines, rep_key)
    roles = TRAINEE_NAMES | PERSONA_NAMES
    spelled = {name.lower(): name for _, _, name, _ in reversed(lines) if name}  # as first written
    shown = ", ".join(repr(spelled[n]) for n in sorted(speakers - roles)[:4])
    if rep_key is None and speakers and not speakers & roles:
        raise TranscriptError(
            f"{source}: speakers {shown} are named, not 'Rep:'/'Customer:'; "
            f"say which one is the rep {REP_HINT}"
        )
    if rep_key is not None and rep_key not in speakers:
        raise TranscriptError(f"{source}: the rep {rep!r} never speaks (speakers: {shown or 'none'})")
    said: list[tuple[str, list[str]]] = []  # (speaker, the parts of their turn), joined once at the end
    last_voice = None
    for number, words, name, vtt in lines:
        key = name.lower() if name else ""
        if key and key in speakers and (key == rep_key or key in TRAINEE_NAMES):
            speaker = "trainee"
        elif key and key in speakers and (key in PERSONA_NAMES or rep_key is not None):
            speaker = "persona"
        elif said:
            said[-1][1].append(f"{name}: {words}" if name else words)
            continue
        else:
            raise TranscriptError(
                f"{source}: line {number}: expected a speaker prefix such as 'Rep:' or 'Customer:'"
            )
        if vtt and key == last_voice and said:
            said[-1][1].append(words)  # the same voice, so the same speaker
        else:
            said.append((speaker, [words]))
        last_voice = key if vtt else None
    texts = ((speaker, " ".join(p for p in (part.strip() for part in parts) if p)) for speaker, parts in said)
    turns = [Turn(speaker=speaker, text=text) for speaker, text in texts if text]
    if not turns:
        raise TranscriptError(f"{source}: no turns found")
    return Transcript(turns=turns)


def parse_transcripts(text: str, source: str, rep: str | None = None) -> list[Transcript]:
    """One JSON transcript, a JSON list of them, JSON Lines of them, or plain text with prefixes;
    at most MAX_TRANSCRIPT_BYTES in all and MAX_TURNS a transcript."""
    too_long = len(text) > MAX_TRANSCRIPT_BYTES  # a character is at least a byte: no need to encode
    check_size(len(text) if too_long else len(text.encode("utf-8", "replace")), source)
    return _check_turns(_parse(text, source, rep), source)


def _parse(text: str, source: str, rep: str | None) -> list[Transcript]:
    stripped = text.strip()
    if not stripped:
        raise TranscriptError(f"{source}: empty input")
    if stripped[0] in "{[":
        try:
            data = load_json(stripped)
        except TooDeep as exc:  # JSON all right, only too deep: not JSON Lines or text either
            raise TranscriptError(f"{source}: line {exc.lineno}: {exc.msg}") from None
        except json.JSONDecodeError as exc:
            if stripped[0] == "{" and "\n" in stripped:
                return _json_lines(stripped, source)
            if _TIMESTAMP.match(stripped) or _PREFIX.match(stripped.splitlines()[0]):
                return [parse_plain(text, source, rep)]  # "[00:01:02] Dana: ..." or "[Rep]: ..."
            raise TranscriptError(f"{source}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        if isinstance(data, list) and data and isinstance(data[0], dict) and "turns" in data[0]:
            return [_from_obj(item, f"{source}: item {i}") for i, item in enumerate(data)]
        return [_from_obj(data, source)]
    return [parse_plain(text, source, rep)]


def _json_lines(text: str, source: str) -> list[Transcript]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(_from_obj(load_json(line), f"{source}: line {number}"))
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{source}: line {number}: {json_problem(exc)}") from None
    return out


def read_transcripts(path: str, stdin_text: str | None = None, rep: str | None = None) -> list[Transcript]:
    if path == "-":
        return parse_transcripts(stdin_text or "", "<stdin>", rep)
    file = Path(path)
    if file.is_dir():
        raise TranscriptError(f"{path}: is a folder; name the transcript files in it (e.g. {path}/*.json)")
    if not file.is_file():
        raise TranscriptError(f"{path}: no such file")
    check_size(file.stat().st_size, path)  # before reading it in
    try:
        text = read_text(file, MAX_TRANSCRIPT_BYTES)  # not UTF-8: one line naming the byte
    except TextError as exc:
        raise TranscriptError(f"{path}: {exc}") from None
    transcripts = parse_transcripts(text, path, rep)
    for t in transcripts:
        if t.id is None and len(transcripts) == 1:
            t.id = file.stem
    return transcripts
