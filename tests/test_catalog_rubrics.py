"""A manager's own `rubrics/` travels with `--catalog`: a topic added there changes the assessment
everywhere a turn is judged (run, classify, grade and the app), and a layer can be keyed to it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli
from trainer.catalog import load_catalog

QUESTION = "How does the monsoon season change what your crews can deliver?"
# A plain fact-finding question: its depth (situation) opens no layer, so only the catalog's topic can.
SITUATION = "How do your crews plan their week in the monsoon season?"


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    """The shipped catalog plus a `monsoon` topic, and the VP's first layer keyed to it alone."""
    folder = tmp_path / "catalog"
    shutil.copytree(ROOT / "personas", folder / "personas")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    (folder / "rubrics").mkdir()
    topics = (ROOT / "rubrics" / "topics.yaml").read_text(encoding="utf-8")
    (folder / "rubrics" / "topics.yaml").write_text(topics + "monsoon: [monsoon, rainy season]\n")
    vp = folder / "personas" / "cost_cutting_vp.yaml"
    text = vp.read_text(encoding="utf-8")
    keyed = text.replace("topics: [budget, vendors, challenge, leadership, risk]", "topics: [monsoon]")
    assert keyed != text
    vp.write_text(keyed, encoding="utf-8")
    return folder


def test_classify_uses_the_catalogs_topics(custom: Path) -> None:
    line = json.dumps({"id": "q", "text": QUESTION, "context": None}) + "\n"
    shipped = cli("classify", stdin=line)
    own = cli("classify", "--catalog", str(custom), stdin=line)
    assert shipped.returncode == own.returncode == 0, own.stderr
    assert "monsoon" not in json.loads(shipped.stdout)["topics"]
    assert "monsoon" in json.loads(own.stdout)["topics"]


def test_classify_sees_an_edit_to_the_catalogs_topics_at_once_and_a_broken_file_every_time(
    custom: Path,
) -> None:
    """The rubric cache is keyed by the file's content: an edit of the same size within the same tick of
    the clock still counts, and a file that does not read is never kept."""
    line = json.dumps({"id": "q", "text": QUESTION, "context": None}) + "\n"
    topics = custom / "rubrics" / "topics.yaml"
    assert "monsoon" in json.loads(cli("classify", "--catalog", str(custom), stdin=line).stdout)["topics"]
    stat = topics.stat()
    topics.write_text(topics.read_text(encoding="utf-8").replace("monsoon:", "munsoon:"), encoding="utf-8")
    os.utime(topics, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time
    assert "munsoon" in json.loads(cli("classify", "--catalog", str(custom), stdin=line).stdout)["topics"]
    topics.write_text("munsoon: monsoon\n", encoding="utf-8")
    for _ in range(2):
        broken = cli("classify", "--catalog", str(custom), stdin=line)
        assert broken.returncode == 2
        assert broken.stderr == f"error: {topics}:1: munsoon: expected a list of phrases\n"


def test_grade_uses_the_catalogs_topics(custom: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "call.txt"
    transcript.write_text(f"Customer: Morning.\nRep: {QUESTION}\nCustomer: It slows everything.\n")
    shipped = cli("grade", str(transcript))
    own = cli("grade", "--catalog", str(custom), str(transcript))
    assert shipped.returncode == own.returncode == 0, own.stderr
    assert "monsoon" not in json.loads(shipped.stdout)["turns"][0]["topics"]
    assert "monsoon" in json.loads(own.stdout)["turns"][0]["topics"]


def test_run_opens_a_layer_keyed_to_the_catalogs_own_topic(custom: Path, tmp_path: Path) -> None:
    lines = tmp_path / "rep.txt"
    # A pleasantry first: a broad question about their month may itself open the pressure layer now
    # (heard as asked deeper than they can go), and this test is about the catalog's topic alone.
    lines.write_text(f"Thanks for making the time this morning.\n{SITUATION}\n")
    args = ("run", "--scenario", "vp_budget_review", "--trainee", str(lines), "--json")
    shipped = json.loads(cli(*args).stdout)
    own_run = cli(*args, "--catalog", str(custom))
    assert own_run.returncode == 0, own_run.stderr
    own = json.loads(own_run.stdout)
    assert own["scorecard"]["turns"][1]["depth"] == "situation"
    assert "monsoon" in own["scorecard"]["turns"][1]["topics"]
    assert "monsoon" not in shipped["scorecard"]["turns"][1]["topics"]
    assert "budget_edge" in {layer["id"] for layer in own["persona_state"]["unlocked"]}
    assert "budget_edge" not in {layer["id"] for layer in shipped["persona_state"]["unlocked"]}


def test_the_loaded_catalog_carries_its_rubrics(custom: Path) -> None:
    catalog = load_catalog(custom)
    assert "monsoon" in catalog.rubrics.topics
    assert "monsoon" not in load_catalog().rubrics.topics


def test_the_app_grades_with_the_catalogs_topics(custom: Path, tmp_path: Path) -> None:
    """Practice and an uploaded call both see the folder's own topic; the keyed layer opens in the app."""
    from tests.app_fixtures import make_world

    world = make_world(tmp_path / "app", load_catalog(custom))
    ravi = world["ravi"]
    view = world.app.start(ravi, "s:vp_budget_review", seed=1)
    view = world.app.send(
        ravi, view.id, "Thanks for making the time. How are things on your side this month?"
    )
    view = world.app.send(ravi, view.id, QUESTION)
    assert "monsoon" in view.assessments[-1].topics
    assert "budget_edge" in view.state.unlocked
    _, card = world.app.upload(ravi, f"Customer: Morning.\nRep: {QUESTION}\n", "call.txt")
    assert "monsoon" in card.turns[0]["topics"]
