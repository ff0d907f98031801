"""Read YAML data files that people edit, keeping line numbers so every error names file, line and field.

Personas, scenarios, rubrics and eval suites are all such files; one reader means one error format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class CatalogError(ValueError):
    """A bad data file; str() is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = Path(path), line, field, message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ten times faster


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(path, f"cannot read file ({exc.strerror or exc})") from None


def read_yaml(path: Path) -> Any:
    """The file's data. Line numbers are looked up only when there is an error to report (`line_of`)."""
    text = _text(path)
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader (SafeLoader or its libyaml twin)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(path, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None


def line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """Walk an error location (field names and list indexes) through the file's YAML nodes to a line."""
    try:
        node: yaml.Node | None = yaml.compose(_text(path), Loader=_LOADER)
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
