"""The catalog's prompt files (prompts/): where they are, and how a `{{ slot }}` template is filled.

A manager's catalog may carry its own prompt files; any it lacks are the built-in ones. The persona's
prompt is built in roleplay/persona_prompt.py, the judge's in grader/judge.py.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from trainer.datafiles import CatalogError
from trainer.rubrics import builtin_root

SLOT = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def prompts_root(catalog_root: Path | None = None) -> Path:
    """A manager's catalog may carry its own prompts/; otherwise the built-in ones."""
    if catalog_root is not None and (catalog_root / "prompts").is_dir():
        return catalog_root / "prompts"
    return builtin_root() / "prompts"


def prompt_file(root: Path, name: str) -> Path:
    """The named prompt file of a prompts folder, else the built-in one."""
    own = root / name
    return own if own.exists() else builtin_root() / "prompts" / name


@cache
def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CatalogError(path, f"cannot read prompt ({exc.strerror or exc})") from None


@cache
def prompt_data(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(path, f"cannot read prompt data ({exc})") from None
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    return data


def render(path: Path, values: dict[str, str]) -> str:
    """Fill `{{ name }}` slots; a slot with no value is an error naming the file and line."""
    text = _text(path)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            line = text.count("\n", 0, match.start()) + 1
            raise CatalogError(
                path, f"unknown slot {{{{{name}}}}} (known: {', '.join(sorted(values))})", line
            )
        return values[name]

    return SLOT.sub(fill, text)


def never_say(root: Path | None = None) -> dict[str, list[str]]:
    """Phrase lists a persona must never say, by category (prompts/never_say.yaml)."""
    data = prompt_data(prompt_file(root or prompts_root(), "never_say.yaml"))
    return {str(k): [str(p).lower() for p in v or []] for k, v in data.items()}
