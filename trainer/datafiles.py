"""Read the files people edit or hand in, keeping line numbers so every error names file, line and field.

Personas, scenarios, rubrics and eval suites are YAML; transcripts and turn lists are JSON or text. One
reader means one error format, and one place that refuses a file too large, not UTF-8, or nested too deeply.
PyYAML is imported only to parse a file not in the cache (trainer/filecache.py) or to find an error's line:
`trainer classify`, `scenarios` and `validate` would otherwise pay ~11 ms for the import alone.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from trainer.filecache import cached

if TYPE_CHECKING:
    import yaml

M = TypeVar("M", bound=BaseModel)


class CatalogError(ValueError):
    """A bad data file; str() is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = Path(path), line, field, message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


class TextError(ValueError):
    """A file that cannot be read as text; str() is the problem, without the file's name (callers add it)."""


# A persona or scenario is a few KB; a file of megabytes is a mistake, and would take minutes to parse.
MAX_DATA_FILE_BYTES = 1_000_000
# Parsed YAML files kept in the cache at most (each place keeps one): catalogs in temporary folders, such as
# the tests', would otherwise add copies without end.
YAML_COPIES = 500
# Transcripts nest four deep, a turn list two: anything near Python's recursion limit is not a transcript.
MAX_JSON_DEPTH = 100


def decode_text(data: bytes, offset: int = 0) -> str:
    """UTF-8 bytes as text (a leading byte-order mark dropped); TextError names the first byte that is not,
    by its offset in the file (`offset`: where `data` starts in it)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        where = offset + exc.start
        raise TextError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {where})") from None


def read_text(path: Path, limit: int = MAX_DATA_FILE_BYTES) -> str:
    """A file's text: its size is checked before it is read, then its encoding (TextError for either)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise TextError(f"file too large ({size / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise TextError(f"cannot read file ({exc.strerror or exc})") from None
    return decode_text(data)


def _depth_exceeded_at(text: str, limit: int) -> int:
    """The offset where brackets first nest deeper than `limit` (strings skipped), else the end."""
    depth, in_string, escaped = 0, False, False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return offset
        elif char in "]}":
            depth -= 1
    return len(text)


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than `limit` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class TooDeep(json.JSONDecodeError):
    """JSON nested deeper than MAX_JSON_DEPTH: refused before it can exhaust Python's recursion limit."""

    def __init__(self, text: str) -> None:
        super().__init__("nested too deeply", text, _depth_exceeded_at(text, MAX_JSON_DEPTH))


def load_json(text: str) -> Any:
    """`json.loads`, refusing nesting deeper than MAX_JSON_DEPTH with `TooDeep` (a JSONDecodeError whose
    `lineno` says where), instead of a RecursionError or data too deep to print back."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise TooDeep(text) from None
    if isinstance(data, (dict, list)) and _deeper_than(data, MAX_JSON_DEPTH):
        raise TooDeep(text)
    return data


def json_problem(exc: json.JSONDecodeError) -> str:
    """What is wrong, for a one-line error after the file and line: 'invalid JSON (why)' or 'nested too
    deeply'."""
    return exc.msg if isinstance(exc, TooDeep) else f"invalid JSON ({exc.msg})"


def _text(path: Path) -> str:
    try:
        return read_text(path)
    except TextError as exc:
        raise CatalogError(path, str(exc)) from None


@cache
def _loader() -> type[yaml.SafeLoader]:
    """libyaml's safe loader when present (ten times faster), else PyYAML's own."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The file's data. Line numbers are looked up only when there is an error to report (`line_of`).

    Through the cache of trainer/filecache.py, keyed by the file's bytes: the data of a file that read
    without error, so a command that finds them all there never imports PyYAML, and a bad file is reported
    exactly as without the cache (it is never kept)."""
    try:
        small = path.stat().st_size <= MAX_DATA_FILE_BYTES
    except OSError:
        small = False
    if not small:  # missing, unreadable or too large: what reading it says
        return _parse_yaml(path)
    return cached(path, "yaml", _parse_yaml, _same, _same, by_content=True, keep=YAML_COPIES)


def _same(data: Any) -> Any:
    return data


def _parse_yaml(path: Path) -> Any:
    import yaml

    text = _text(path)
    try:
        return yaml.load(text, Loader=_loader())  # a safe loader (SafeLoader or its libyaml twin)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(path, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None


def line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """Walk an error location (field names and list indexes) through the file's YAML nodes to a line."""
    import yaml

    try:
        node: yaml.Node | None = yaml.compose(_text(path), Loader=_loader())
    except (yaml.YAMLError, CatalogError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def parse_model(model: type[M], path: Path) -> M:
    """Validate a YAML file against a pydantic model; the first error names its line and field."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping of fields at the top level", line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        more = len(exc.errors()) - 1
        if more:
            message += f" (+{more} more)"
        raise CatalogError(path, message, line=line_of(path, loc), field=field_name(loc)) from None
