"""Load and validate personas/, scenarios/ and rubrics/; every error names file, line and field.

The catalog is found, in order: an explicit folder (`--catalog`), `$TRAINER_CATALOG`, the copy
shipped inside the installed package, the source tree. A folder lacking rubrics/ borrows the
built-in ones, so a manager can keep just their own personas and scenarios.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from trainer.schema import Persona, Scenario, TrustRules

PACKAGED = Path(__file__).parent / "_catalog"
SOURCE_TREE = Path(__file__).resolve().parent.parent

M = TypeVar("M", bound=BaseModel)


class CatalogError(ValueError):
    """A bad catalog file; str() is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = Path(path), line, field, message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


def builtin_root() -> Path:
    """The catalog that ships with trainer (installed copy first, else the source tree)."""
    if (PACKAGED / "personas").is_dir():
        return PACKAGED
    return SOURCE_TREE


def catalog_root(explicit: Path | str | None = None) -> Path:
    chosen = explicit or os.environ.get("TRAINER_CATALOG")
    if chosen:
        root = Path(chosen).expanduser()
        if not root.is_dir():
            raise CatalogError(root, "catalog folder not found")
        return root
    return builtin_root()


# ---------------------------------------------------------------- YAML with line numbers


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(path, f"cannot read file ({exc.strerror or exc})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(path, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk a pydantic error location through the YAML node tree to the nearest line."""
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


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def _parse(model: type[M], path: Path) -> M:
    data, node = _read_yaml(path)
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
        raise CatalogError(path, message, line=_line_of(node, loc), field=_field_name(loc)) from None


# ---------------------------------------------------------------- rubrics


def _rubric_path(root: Path, name: str) -> Path:
    own = root / "rubrics" / name
    return own if own.exists() else builtin_root() / "rubrics" / name


@cache
def _load_topics(path: Path) -> dict[str, tuple[str, ...]]:
    data, node = _read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected topic: [phrases] mappings", line=1)
    topics: dict[str, tuple[str, ...]] = {}
    for name, phrases in data.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise CatalogError(path, "expected a list of phrases", line=_line_of(node, (name,)), field=name)
        topics[str(name)] = tuple(p.strip().lower() for p in phrases)
    return topics


def load_topics(root: Path | None = None) -> dict[str, tuple[str, ...]]:
    return _load_topics(_rubric_path(root or catalog_root(), "topics.yaml").resolve())


def load_rules(root: Path | None = None) -> TrustRules:
    return _parse(TrustRules, _rubric_path(root or catalog_root(), "persona_rules.yaml"))


def load_rubric(name: str, root: Path | None = None) -> dict[str, Any]:
    """A free-form rubric file (e.g. scorecard weights) as a dict; re-read only when the file changes."""
    path = _rubric_path(root or catalog_root(), name)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _load_rubric(path, stamp)


@lru_cache(maxsize=64)
def _load_rubric(path: Path, stamp: int) -> dict[str, Any]:
    data, _ = _read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    return data


# ---------------------------------------------------------------- personas and scenarios


def load_persona(path: Path, topics: dict[str, tuple[str, ...]] | None = None) -> Persona:
    persona = _parse(Persona, path)
    topics = topics if topics is not None else load_topics()
    _, node = _read_yaml(path)
    for n, layer in enumerate(persona.hidden):
        for k, topic in enumerate(layer.unlock.topics):
            if topic not in topics:
                loc = ("hidden", n, "unlock", "topics", k)
                raise CatalogError(
                    path,
                    f"unknown topic {topic!r} (see rubrics/topics.yaml)",
                    _line_of(node, loc),
                    _field_name(loc),
                )
    for n, challenge in enumerate(persona.challenges):
        for k, topic in enumerate(challenge.recover_topics):
            if topic not in topics:
                loc = ("challenges", n, "recover_topics", k)
                raise CatalogError(
                    path,
                    f"unknown topic {topic!r} (see rubrics/topics.yaml)",
                    _line_of(node, loc),
                    _field_name(loc),
                )
    return persona


def load_scenario(path: Path) -> Scenario:
    return _parse(Scenario, path)


def check_scenario(scenario: Scenario, path: Path, personas: dict[str, Persona]) -> None:
    """Cross-file checks: the persona exists and every objective points at something real."""
    _, node = _read_yaml(path)
    persona = personas.get(scenario.persona)
    if persona is None:
        raise CatalogError(
            path, f"unknown persona {scenario.persona!r}", _line_of(node, ("persona",)), "persona"
        )
    layer_ids = {layer.id for layer in persona.hidden}
    challenge_ids = {c.id for c in persona.challenges}
    for n, objective in enumerate(scenario.objectives):
        known = layer_ids if objective.kind == "unlock" else challenge_ids
        if objective.kind != "next_step" and objective.target not in known:
            loc = ("objectives", n, "target")
            what = "hidden layer" if objective.kind == "unlock" else "challenge"
            raise CatalogError(
                path,
                f"persona {persona.id!r} has no {what} {objective.target!r}",
                _line_of(node, loc),
                _field_name(loc),
            )


@dataclass
class Catalog:
    root: Path
    personas: dict[str, Persona] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    def persona(self, persona_id: str) -> Persona:
        try:
            return self.personas[persona_id]
        except KeyError:
            raise CatalogError(
                self.root / "personas", f"no persona {persona_id!r}", field="persona"
            ) from None

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            known = ", ".join(sorted(self.scenarios)) or "none"
            raise CatalogError(
                self.root / "scenarios", f"no scenario {scenario_id!r} (known: {known})", field="scenario"
            ) from None


def _yaml_files(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.glob("*.y*ml") if p.suffix in {".yaml", ".yml"}) if folder.is_dir() else []
    )


def _add(kind: str, ids: dict[str, Path], item_id: str, path: Path) -> None:
    if item_id in ids:
        raise CatalogError(path, f"{kind} id {item_id!r} is also used by {ids[item_id].name}", field="id")
    ids[item_id] = path


def load_catalog(root: Path | str | None = None) -> Catalog:
    """Load every persona and scenario; the first bad file raises CatalogError."""
    base = catalog_root(root)
    topics = load_topics(base)
    catalog = Catalog(root=base)
    seen: dict[str, Path] = {}
    for path in _yaml_files(base / "personas"):
        persona = load_persona(path, topics)
        _add("persona", seen, persona.id, path)
        catalog.personas[persona.id] = persona
        catalog.paths[f"persona:{persona.id}"] = path
    seen = {}
    scenario_paths = _yaml_files(base / "scenarios")
    for path in scenario_paths:
        scenario = load_scenario(path)
        _add("scenario", seen, scenario.id, path)
        check_scenario(scenario, path, catalog.personas)
        catalog.scenarios[scenario.id] = scenario
        catalog.paths[f"scenario:{scenario.id}"] = path
    return catalog


def validate_paths(paths: list[Path], root: Path | str | None = None) -> list[str]:
    """Check files or folders; returns the names checked, raises CatalogError on the first bad one."""
    checked: list[str] = []
    for target in paths:
        if not target.exists():
            raise CatalogError(target, "no such file or folder")
        if target.is_dir():
            if (target / "personas").is_dir() or (target / "scenarios").is_dir():
                cat = load_catalog(target)
                checked += [str(p) for p in cat.paths.values()]
                continue
            files = _yaml_files(target)
        else:
            files = [target]
        base = catalog_root(root)
        for path in files:
            kind = _kind_of(path)
            if kind == "persona":
                load_persona(path, load_topics(base))
            else:
                scenario = load_scenario(path)
                check_scenario(scenario, path, load_catalog(base).personas | _siblings(path))
            checked.append(str(path))
    return checked


def _kind_of(path: Path) -> str:
    data, _ = _read_yaml(path)
    if path.parent.name == "personas" or (isinstance(data, dict) and "hidden" in data):
        return "persona"
    return "scenario"


def _siblings(path: Path) -> dict[str, Persona]:
    """Personas beside a scenario folder, so a manager's own scenario may name their own persona."""
    folder = path.parent.parent / "personas"
    if not folder.is_dir():
        return {}
    topics = load_topics(path.parent.parent)
    return {p.id: p for p in (load_persona(f, topics) for f in _yaml_files(folder))}
