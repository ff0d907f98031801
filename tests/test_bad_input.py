"""Input that is not what a command expects: one line on stderr naming the file (and line, field, turn),
exit 2, never a traceback, a hang, or text silently changed. Run as a user would, in a real subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli

BAD_BYTE = b"Rep: What is on your plate \xff this quarter?\n"  # 0xff at offset 27: never UTF-8
DEEP = "[" * 100_000 + "]" * 100_000


def cli_bytes(*args: str, stdin: bytes) -> subprocess.CompletedProcess:
    """`cli`, with raw bytes on stdin (what a pipe of a Latin-1 file gives)."""
    result = subprocess.run(
        [sys.executable, "-m", "trainer", *args],
        input=stdin,
        capture_output=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def assert_one_line(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == f"error: {message}\n", result.stderr[-2000:]


def catalog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(ROOT / "personas", folder / "personas")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    return folder


# ---------------------------------------------------------------- item 9: not UTF-8, too deep, too large


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("call.txt", ("grade",)),
        ("turns.jsonl", ("classify",)),
        ("lines.txt", ("run", "--scenario", "vp_budget_review", "--trainee")),
    ],
)
def test_a_file_that_is_not_utf8_is_named_with_the_byte_and_its_offset(tmp_path, name, args):
    path = tmp_path / name
    path.write_bytes(BAD_BYTE)
    where = f"{path}: line 1" if name.endswith(".jsonl") else str(path)
    assert_one_line(cli(*args, str(path)), f"{where}: not UTF-8 text (byte 0xff at offset 27)")


FIRST_TURN = b'{"text": "Hello"}\n'


@pytest.mark.parametrize(
    ("args", "stdin", "where", "offset"),
    [
        (("grade", "-"), BAD_BYTE, "<stdin>", 27),
        (("classify",), FIRST_TURN + BAD_BYTE, "<stdin>: line 2", len(FIRST_TURN) + 27),
    ],
    ids=["grade", "classify"],
)
def test_stdin_that_is_not_utf8_is_named_too(args, stdin, where, offset):
    assert_one_line(cli_bytes(*args, stdin=stdin), f"{where}: not UTF-8 text (byte 0xff at offset {offset})")


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "{persona}"),
        ("personas", "--catalog", "{catalog}"),
        ("scenarios", "--catalog", "{catalog}"),
        ("classify", "--catalog", "{catalog}"),  # its rubrics: the bad file is a rubric here
        ("serve", "--catalog", "{catalog}", "--port", "1"),  # refused before anything listens
    ],
)
def test_a_catalog_file_that_is_not_utf8_is_named_by_every_command(tmp_path, args):
    catalog = catalog_copy(tmp_path)
    persona = catalog / "personas" / "cost_cutting_vp.yaml"
    bad = catalog / "rubrics" / "topics.yaml" if args[0] == "classify" else persona
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes(b"# Renata \xe9\n" + (persona.read_bytes() if bad == persona else b"a: [b]\n"))
    result = cli(*(a.format(catalog=catalog, persona=persona) for a in args), stdin="")
    assert_one_line(result, f"{bad}: not UTF-8 text (byte 0xe9 at offset 9)")


@pytest.mark.parametrize(
    ("name", "args", "where"),
    [
        ("deep.json", ("grade",), "line 1"),
        ("deep.jsonl", ("classify",), "line 1"),
        ("deep.json", ("run", "--scenario", "vp_budget_review", "--trainee"), "line 1"),
    ],
)
def test_deeply_nested_json_is_refused_in_one_line(tmp_path, name, args, where):
    path = tmp_path / name
    path.write_text('{"text": ' + DEEP + "}\n" if name.endswith(".jsonl") else DEEP)
    assert_one_line(cli(*args, str(path)), f"{path}: {where}: nested too deeply")


def test_nesting_a_little_deeper_than_any_transcript_names_its_line(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"turns":\n' + "[" * 150 + "]" * 150 + "}\n")
    assert_one_line(cli("grade", str(path)), f"{path}: line 2: nested too deeply")


def test_a_20_mb_persona_file_is_refused_at_once(tmp_path):
    catalog = catalog_copy(tmp_path)
    big = catalog / "personas" / "big.yaml"
    vp = (catalog / "personas" / "cost_cutting_vp.yaml").read_text()
    big.write_text(vp.replace("id: cost_cutting_vp", "id: big") + "#" + "x" * 20_000_000 + "\n")
    started = time.monotonic()
    listed = cli("personas", "--catalog", str(catalog))
    checked = cli("validate", str(big))
    assert time.monotonic() - started < 30
    for result in (listed, checked):
        assert_one_line(result, f"{big}: file too large (20.0 MB; the limit is 1 MB)")


# ---------------------------------------------------------------- item 10: rep and persona text is not markup


MARKUP_LINES = ["What's on your plate [/] this quarter?", "Is [bold]cost[/bold] the whole story?"]


def test_rep_lines_that_look_like_markup_print_as_written(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(MARKUP_LINES) + "\n")
    result = cli("run", "--scenario", "vp_budget_review", "--trainee", str(lines))
    assert result.returncode == 0, result.stderr[-2000:]
    for line in MARKUP_LINES:
        assert f"Rep: {line}" in result.stdout


def test_a_chat_with_markup_like_lines_resumes_and_shows_them_literally():
    first = cli("chat", "--seed", "3", stdin=MARKUP_LINES[0] + "\n")
    assert first.returncode == 0, first.stderr[-2000:]
    assert f"you: {MARKUP_LINES[0]}" in first.stdout
    session = re.search(r"--resume (\w+)", first.stdout).group(1)
    second = cli("chat", "--resume", session, stdin=MARKUP_LINES[1] + "\n")
    assert second.returncode == 0, second.stderr[-2000:]
    for line in MARKUP_LINES:
        assert f"you: {line}" in second.stdout


def test_catalog_text_that_looks_like_markup_prints_as_written(tmp_path):
    catalog = catalog_copy(tmp_path)
    scenario = catalog / "scenarios" / "vp_budget_review.yaml"
    brief = "Bring [bold]numbers[/bold], not [/] slides."
    scenario.write_text(scenario.read_text().replace("brief: >-\n", f"brief: >-\n  {brief}\n"))
    result = cli("chat", "--catalog", str(catalog), "--seed", "3", stdin="")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"You sell: {brief} You sell Northwind" in result.stdout


# ---------------------------------------------------------------- item 11: what grade and validate refuse


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("t.json", json.dumps({"turns": [{"speaker": "persona", "text": "Hello? Anyone there?"}]})),
        ("t.txt", "Customer: Hello? Anyone there?\n"),
    ],
)
def test_grade_refuses_a_transcript_with_no_rep_turns(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert_one_line(cli("grade", str(path)), f"{path}: no rep turns to grade (speaker 'trainee' / 'Rep:')")


def test_grade_names_the_transcript_in_a_file_of_several_that_has_no_rep_turns(tmp_path):
    path = tmp_path / "calls.jsonl"
    good = {"turns": [{"speaker": "trainee", "text": "What matters most to you this year?"}]}
    empty = {"turns": [{"speaker": "persona", "text": "Hello?"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(empty) + "\n")
    result = cli("grade", str(path))
    assert_one_line(result, f"{path}: transcript 2: no rep turns to grade (speaker 'trainee' / 'Rep:')")
    assert len(result.stdout.splitlines()) == 1  # the first was graded, in input order


def test_grade_names_an_unknown_scenario_and_the_known_ones(tmp_path):
    path = tmp_path / "t.json"
    turns = [{"speaker": "trainee", "text": "What matters most to you this year?"}]
    path.write_text(json.dumps({"scenario": "vp_budjet_review", "turns": turns}))
    result = cli("grade", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}: scenario: no scenario 'vp_budjet_review' (known: ")
    assert "vp_budget_review" in result.stderr and "cio_poc_checkin" in result.stderr


def test_grade_of_a_folder_says_it_is_a_folder(tmp_path):
    assert_one_line(
        cli("grade", str(tmp_path)),
        f"{tmp_path}: is a folder; name the transcript files in it (e.g. {tmp_path}/*.json)",
    )


def test_validating_one_scenario_checks_only_the_persona_it_names(tmp_path):
    catalog = catalog_copy(tmp_path)
    broken = catalog / "personas" / "career_cio.yaml"
    broken.write_text(broken.read_text().replace("patience:", "patience: [", 1))
    scenario = catalog / "scenarios" / "vp_budget_review.yaml"
    result = cli("validate", str(scenario))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: 1 file(s) valid\n"
    own = catalog / "personas" / "cost_cutting_vp.yaml"
    own.write_text(own.read_text().replace("patience: 3", "patience: lots"))
    result = cli("validate", str(scenario))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {own}:") and "patience" in result.stderr
