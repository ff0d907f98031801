"""Load and validate personas/, scenarios/ and rubrics/; every error names file, line and field.

The catalog is found, in order: an explicit folder (`--catalog`), `$TRAINER_CATALOG`, the copy
shipped inside the installed package, the source tree. A folder lacking rubrics/ borrows the
built-in ones, so a manager can keep just their own personas and scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer.datafiles import CatalogError, field_name, line_of, parse_model, read_yaml
from trainer.rubrics import Rubrics, builtin_rubrics, catalog_root, load_rubrics
from trainer.rubrics import builtin_root as builtin_root  # still importable from here, as before
from trainer.schema import Persona, Scenario

# ---------------------------------------------------------------- personas and scenarios


def load_persona(path: Path, topics: dict[str, tuple[str, ...]] | None = None) -> Persona:
    persona = parse_model(Persona, path)
    topics = topics if topics is not None else builtin_rubrics().topics
    for n, layer in enumerate(persona.hidden):
        for k, topic in enumerate(layer.unlock.topics):
            if topic not in topics:
                loc = ("hidden", n, "unlock", "topics", k)
                raise CatalogError(
                    path,
                    f"unknown topic {topic!r} (see rubrics/topics.yaml)",
                    line_of(path, loc),
                    field_name(loc),
                )
    for n, challenge in enumerate(persona.challenges):
        for k, topic in enumerate(challenge.recover_topics):
            if topic not in topics:
                loc = ("challenges", n, "recover_topics", k)
                raise CatalogError(
                    path,
                    f"unknown topic {topic!r} (see rubrics/topics.yaml)",
                    line_of(path, loc),
                    field_name(loc),
                )
    return persona


def load_scenario(path: Path) -> Scenario:
    return parse_model(Scenario, path)


def check_scenario(scenario: Scenario, path: Path, personas: dict[str, Persona]) -> None:
    """Cross-file checks: the persona exists and every objective points at something real."""
    persona = personas.get(scenario.persona)
    if persona is None:
        raise CatalogError(
            path, f"unknown persona {scenario.persona!r}", line_of(path, ("persona",)), "persona"
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
                line_of(path, loc),
                field_name(loc),
            )


@dataclass
class Catalog:
    root: Path
    personas: dict[str, Persona] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    rubrics: Rubrics = field(default_factory=builtin_rubrics)

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
    rubrics = load_rubrics(base)
    topics = rubrics.topics
    catalog = Catalog(root=base, rubrics=rubrics)
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
                load_persona(path, load_rubrics(base).topics)
            else:
                scenario = load_scenario(path)
                check_scenario(scenario, path, _persona_of(scenario, path, base))
            checked.append(str(path))
    return checked


def _kind_of(path: Path) -> str:
    data = read_yaml(path)
    if path.parent.name == "personas" or (isinstance(data, dict) and "hidden" in data):
        return "persona"
    return "scenario"


def _declared_id(path: Path) -> object:
    """The `id` a YAML file gives itself, or None when it cannot be read: only to find a file by its id."""
    try:
        data = read_yaml(path)
    except CatalogError:
        return None
    return data.get("id") if isinstance(data, dict) else None


def _persona_of(scenario: Scenario, path: Path, base: Path) -> dict[str, Persona]:
    """Just the persona a scenario names, loaded and checked: first beside its folder (a manager's own
    scenario may name their own persona), else from the catalog. Other persona files are only looked at for
    their id, never checked, so a broken one elsewhere does not fail this scenario."""
    for root in (path.parent.parent, base):
        for file in _yaml_files(root / "personas"):
            if _declared_id(file) == scenario.persona:
                return {scenario.persona: load_persona(file, load_rubrics(root).topics)}
    return {}


# Reactions a persona says again and again in a session; each should last about a third of its turns.
CONVERSATIONAL = ("open_question", "closed_question", "reflection", "guarded", "pitched", "off_topic")


def thin_spots(catalog: Catalog) -> list[str]:
    """Warnings for personas too thin for their scenarios' length: they would fall back on short
    acknowledgements early (the persona never repeats a sentence, so it runs out of things to say)."""
    warnings = []
    for scenario in catalog.scenarios.values():
        persona = catalog.persona(scenario.persona)
        path = catalog.paths.get(f"persona:{persona.id}", persona.id)
        want = max(2, scenario.max_turns // 3)
        for key in CONVERSATIONAL:
            have = len(getattr(persona.reactions, key))
            if have < want:
                warnings.append(
                    f"{path}: reactions.{key}: {have} line(s) for {scenario.id}'s {scenario.max_turns} "
                    f"turns (want {want} or more)"
                )
        for n, layer in enumerate(persona.hidden):
            for field_name_ in ("hints", "elaborate"):
                if len(getattr(layer, field_name_)) < 2:
                    warnings.append(f"{path}: hidden.{n}.{field_name_}: fewer than 2 lines ({layer.id})")
    return sorted(set(warnings))
