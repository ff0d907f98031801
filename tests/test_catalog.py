"""Every shipped file validates; a broken file is named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SEED_SCENARIOS, cli
from trainer.catalog import CatalogError, load_catalog, validate_paths

VP = ROOT / "personas" / "cost_cutting_vp.yaml"


def test_every_shipped_persona_and_scenario_validates(catalog):
    assert len(catalog.personas) >= 5
    assert set(SEED_SCENARIOS) <= set(catalog.scenarios)
    for scenario in catalog.scenarios.values():
        assert scenario.persona in catalog.personas
    layers = {h.layer for p in catalog.personas.values() for h in p.hidden}
    assert layers == {"over_here", "over_there", "so_i_can"}


def test_validate_command_accepts_the_catalog():
    result = cli("validate")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def _broken_catalog(tmp_path: Path, persona_text: str, scenario_text: str | None = None) -> Path:
    (tmp_path / "personas").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "personas" / "p.yaml").write_text(persona_text)
    if scenario_text is not None:
        (tmp_path / "scenarios" / "s.yaml").write_text(scenario_text)
    return tmp_path


def _vp_with(edit) -> str:
    data = yaml.safe_load(VP.read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (lambda d: d.pop("patience"), "patience", "required field is missing"),
        (
            lambda d: d["hidden"][1]["unlock"].update(min_trust=140),
            "hidden.1.unlock.min_trust",
            "less than or equal",
        ),
        (lambda d: d.update(mood="grumpy"), "mood", "unknown field"),
        (lambda d: d["hidden"][0].update(layer="over_yonder"), "hidden.0.layer", "over_here"),
        (
            lambda d: d["hidden"][0]["unlock"]["topics"].append("astrology"),
            "hidden.0.unlock.topics.5",
            "astrology",
        ),
        (lambda d: d["reactions"].update(pitched=[]), "reactions", "non-empty line"),
    ],
)
def test_broken_persona_names_file_line_and_field(tmp_path, edit, field, words):
    root = _broken_catalog(tmp_path, _vp_with(edit))
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    message = str(caught.value)
    assert message.startswith(str(root / "personas" / "p.yaml"))
    assert f": {field}:" in message
    assert words in message
    assert "\n" not in message


def test_line_number_points_at_the_bad_value(tmp_path):
    text = VP.read_text().replace("min_trust: 45", "min_trust: lots")
    bad_line = next(n for n, line in enumerate(text.splitlines(), 1) if "min_trust: lots" in line)
    root = _broken_catalog(tmp_path, text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    assert caught.value.line == bad_line
    assert f"p.yaml:{bad_line}: hidden.1.unlock.min_trust:" in str(caught.value)


def test_invalid_yaml_reports_its_line(tmp_path):
    root = _broken_catalog(tmp_path, "id: x\nname: [unclosed\ntitle: y\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    assert "invalid YAML" in str(caught.value)
    assert caught.value.line is not None


def test_scenario_naming_an_unknown_layer_is_rejected(tmp_path):
    scenario = (
        (ROOT / "scenarios" / "vp_budget_review.yaml")
        .read_text()
        .replace("target: next_career_move", "target: secret_yacht")
    )
    root = _broken_catalog(tmp_path, VP.read_text(), scenario)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    assert "objectives.1.target" in str(caught.value)
    assert "secret_yacht" in str(caught.value)


def test_validate_cli_exits_2_with_one_line(tmp_path):
    root = _broken_catalog(tmp_path, _vp_with(lambda d: d.pop("opening")))
    result = cli("validate", str(root / "personas" / "p.yaml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "p.yaml" in result.stderr and "opening" in result.stderr


def test_validate_single_good_file_and_manager_catalog(tmp_path):
    assert validate_paths([VP]) == [str(VP)]
    root = _broken_catalog(
        tmp_path, VP.read_text(), (ROOT / "scenarios" / "vp_budget_review.yaml").read_text()
    )
    result = cli("scenarios", "--json", "--catalog", str(root))
    assert result.returncode == 0, result.stderr
    assert '"vp_budget_review"' in result.stdout
