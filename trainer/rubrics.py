"""The rubrics a catalog carries: topic phrases, persona trust rules, scorecard weights, tips, rewrites.

They are loaded once with the catalog and passed to whatever needs them (the assessment, the persona,
the scorecard), so a manager's own `rubrics/` folder is what grades their sessions. A catalog folder
without a rubric file borrows the built-in one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.datafiles import CatalogError, line_of, parse_model, read_yaml
from trainer.text import Phrases

if TYPE_CHECKING:
    from trainer.schema import TrustRules

PACKAGED = Path(__file__).parent / "_catalog"
SOURCE_TREE = Path(__file__).resolve().parent.parent


def builtin_root() -> Path:
    """The catalog that ships with trainer (installed copy first, else the source tree)."""
    if (PACKAGED / "personas").is_dir():
        return PACKAGED
    return SOURCE_TREE


def catalog_root(explicit: Path | str | None = None) -> Path:
    """The catalog folder: `explicit` (`--catalog`), else `$TRAINER_CATALOG`, else the built-in one."""
    chosen = explicit or os.environ.get("TRAINER_CATALOG")
    if chosen:
        root = Path(chosen).expanduser()
        if not root.is_dir():
            raise CatalogError(root, "catalog folder not found")
        return root
    return builtin_root()


def rubric_path(root: Path, name: str) -> Path:
    own = root / "rubrics" / name
    return own if own.exists() else builtin_root() / "rubrics" / name


def _strings(path: Path, key: Any, value: Any, what: str = "phrases") -> tuple[str, ...]:
    """A rubric's list of non-empty strings under `key`, stripped; anything else names its line."""
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise CatalogError(path, f"expected a list of {what}", line=line_of(path, (key,)), field=str(key))
    return tuple(x.strip() for x in value)


def load_topics(path: Path) -> dict[str, tuple[str, ...]]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected topic: [phrases] mappings", line=1)
    return {
        str(name): tuple(p.lower() for p in _strings(path, name, phrases)) for name, phrases in data.items()
    }


def load_mapping(path: Path) -> dict[str, Any]:
    """A free-form rubric file (e.g. scorecard weights) as a dict."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    return data


@dataclass(frozen=True)
class Rubrics:
    """A catalog's rubric files. Topics and out-of-role phrases (what judging a turn needs) are read at
    once; the rest on first use, so `trainer classify` reads two files, while `load_rubrics(root)` (the
    catalog, `validate`) reads and checks them all up front."""

    root: Path
    topics: dict[str, tuple[str, ...]]
    out_of_role: tuple[str, ...] = ()  # phrases that address the simulation, not the executive

    @cached_property
    def rules(self) -> TrustRules:
        from trainer.schema import TrustRules  # the catalog's models, which judging a turn does not need

        return parse_model(TrustRules, rubric_path(self.root, "persona_rules.yaml"))

    @cached_property
    def scorecard(self) -> dict[str, Any]:
        return load_mapping(rubric_path(self.root, "scorecard.yaml"))

    @cached_property
    def tips(self) -> dict[str, Any]:
        return load_mapping(rubric_path(self.root, "tips.yaml"))

    @cached_property
    def rewrites(self) -> dict[str, Any]:
        return load_mapping(rubric_path(self.root, "rewrites.yaml"))

    @cached_property
    def acknowledgements(self) -> dict[str, tuple[str, ...]]:
        """Short lines by tone, for a voice whose own lines are used up."""
        return _tones(rubric_path(self.root, "acknowledgements.yaml"))

    @cached_property
    def patterns(self) -> tuple[tuple[str, Phrases], ...]:
        """One phrase matcher per topic, made when a turn is first judged (listing needs none)."""
        return tuple((name, Phrases(*phrases)) for name, phrases in self.topics.items())

    @cached_property
    def out_of_role_pattern(self) -> Phrases | None:
        return Phrases(*self.out_of_role) if self.out_of_role else None

    def is_out_of_role(self, text: str) -> bool:
        """The turn talks to the simulation (its prompt, its hidden layers), not to the executive."""
        pattern = self.out_of_role_pattern
        return bool(pattern and pattern.search(text.lower()))

    def topics_in(self, text: str) -> list[str]:
        """The topics whose phrases the text touches."""
        low = text.lower()
        return [name for name, pattern in self.patterns if pattern.search(low)]

    def check_all(self) -> Rubrics:
        """Read every rubric file now, so a mistake in one is reported before anything runs."""
        for name in ("rules", "scorecard", "tips", "rewrites", "acknowledgements"):
            getattr(self, name)
        return self


def label_rubrics(root: Path) -> Rubrics:
    """What judging a turn needs (topics, out-of-role phrases); the other files are read when used."""
    return Rubrics(
        root=root,
        topics=load_topics(rubric_path(root, "topics.yaml")),
        out_of_role=_phrases(rubric_path(root, "out_of_role.yaml")),
    )


def load_rubrics(root: Path) -> Rubrics:
    """Every rubric of a catalog folder (its own files first, else the built-in ones), checked now."""
    return label_rubrics(root).check_all()


def _tones(path: Path) -> dict[str, tuple[str, ...]]:
    return {str(tone): _strings(path, tone, lines, "lines") for tone, lines in load_mapping(path).items()}


def _phrases(path: Path) -> tuple[str, ...]:
    phrases = load_mapping(path).get("phrases") or []
    return tuple(p.lower() for p in _strings(path, "phrases", phrases))


@cache
def builtin_rubrics() -> Rubrics:
    """The shipped rubrics, for library callers that pass none (the CLI and the app always pass theirs)."""
    return load_rubrics(builtin_root())
