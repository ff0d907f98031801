"""The INTERFACES.md commands, run as a user runs them: a real subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.app_fixtures import make_world
from tests.conftest import ROOT, SCRIPTS, SEED_SCENARIOS, cli, cli_json
from trainer.grader.transcripts import parse_transcripts
from trainer.roleplay.session import Sessions
from trainer.team.access import LOCAL_USER


@pytest.mark.parametrize("scenario_id", SEED_SCENARIOS)
def test_run_json_scores_discovery_clearly_above_pitching(scenario_id):
    good = cli_json(
        "run", "--scenario", scenario_id, "--trainee", str(SCRIPTS / f"{scenario_id}.discovery.txt"), "--json"
    )[0]
    bad = cli_json(
        "run", "--scenario", scenario_id, "--trainee", str(SCRIPTS / f"{scenario_id}.pitch.txt"), "--json"
    )[0]
    assert good["scorecard"]["overall"] >= bad["scorecard"]["overall"] + 30
    assert (
        good["scorecard"]["dimensions"]["customer_focus"] > bad["scorecard"]["dimensions"]["customer_focus"]
    )
    state = good["persona_state"]
    assert {"trust", "unlocked", "ended", "reason"} <= set(state)
    assert all(set(layer) >= {"id", "layer"} for layer in state["unlocked"])
    assert bad["persona_state"]["unlocked"] == []
    turns = good["transcript"]["turns"]
    assert turns[0]["speaker"] == "persona" and turns[1]["speaker"] == "trainee"


def test_run_accepts_a_json_list_of_lines(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(["What's on your plate this quarter?", "Thanks for your time, goodbye."]))
    out = cli_json("run", "--scenario", "vp_budget_review", "--trainee", str(path), "--json")[0]
    assert out["persona_state"]["ended"] is True
    assert out["persona_state"]["reason"] == "goodbye"


def test_run_plain_output_shows_transcript_and_scorecard():
    result = cli(
        "run", "--scenario", "vp_budget_review", "--trainee", str(SCRIPTS / "vp_budget_review.discovery.txt")
    )
    assert result.returncode == 0, result.stderr
    assert "Renata Okafor:" in result.stdout and "Scorecard" in result.stdout and "Overall" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("run", "--scenario", "no_such", "--trainee", "evals/scripts/vp_budget_review.pitch.txt"),
            "no scenario 'no_such'",
        ),
        (("run", "--scenario", "vp_budget_review", "--trainee", "missing.txt"), "missing.txt: no such file"),
        (
            ("run", "--scenario", "vp_budget_review", "--trainee", "x", "--backend", "carrier-pigeon"),
            "--backend",
        ),
        (("grade", "missing.json"), "missing.json: no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, words):
    result = cli(*args)
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("run", "--no-such-flag"), "No such option: --no-such-flag"),  # a mistyped option
        (("nosuch",), "No such command 'nosuch'"),  # a mistyped command
        (("run", "--trainee", "x.txt"), "Missing option '--scenario'"),  # a required option left out
        (("run", "--scenario", "x", "--trainee", "x", "--seed", "two"), "'--seed'"),  # a bad value
        (("grade", "x.json", "--record"), "No such option: --record"),  # grade only replays, never records
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_traceback(args, words):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and words in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "--help" in result.stderr  # where to look next


def test_no_command_prints_the_help_and_exits_2():
    result = cli()
    assert result.returncode == 2
    assert "Commands" in result.stdout and "scenarios" in result.stdout
    assert "Traceback" not in result.stderr


VOICE_FLAGS = ["--backend", "--model", "--temperature", "--config", "--record", "--replay", "--cassettes"]


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("chat", VOICE_FLAGS),
        ("run", VOICE_FLAGS),
        ("eval", ["--backend", "--model", "--judge-model", "--temperature", "--record", "--replay"]),
        ("grade", ["--backend", "--model", "--config", "--replay", "--cassettes", "--judge", "--rep"]),
        ("classify", ["--backend", "--model", "--config", "--replay", "--cassettes", "--judge"]),
        ("serve", ["--backend", "--model", "--host", "--port", "--database-url"]),
    ],
)
def test_help_lists_the_shared_backend_flags_with_their_help(command, flags):
    result = cli(command, "--help", env={"COLUMNS": "220"})
    assert result.returncode == 0, result.stderr
    for flag in flags:
        assert flag in result.stdout, flag
    assert "offline (no network), openai (any OpenAI-compatible server)" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--scenario", "vp_budget_review", "--trainee", "x", "--record", "--replay"),
        ("chat", "--record", "--replay"),
        ("eval", "evals/suites", "--record", "--replay"),
    ],
)
def test_backend_flags_reach_the_settings(args):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr == "error: --record and --replay: choose one\n"


HEAVY = ("langgraph", "langchain", "openai", "httpx", "gradio", "tenacity")


def imports_of(args: tuple[str, ...], stdin: str | None, env: dict[str, str] | None = None):
    """Run `trainer ARGS` under `-X importtime`: its output, and every module it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trainer", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {
        row.rsplit("|", 1)[1].strip() for row in result.stderr.splitlines() if row.startswith("import time:")
    }
    return result.stdout, imported


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("--help",), None),
        (("scenarios",), None),
        (("personas", "--json"), None),
        (("validate",), None),
        (("classify",), '{"id": 1, "text": "What is on your plate this quarter?"}\n'),
    ],
)
def test_quick_commands_do_not_import_the_session_engine_model_clients_or_gradio(args, stdin):
    """A fast CLI: listing, checking and classifying never load LangGraph, the model clients or Gradio."""
    _, imported = imports_of(args, stdin)
    assert "trainer.cli.main" in imported  # the measurement worked
    heavy = sorted(name for name in imported if name.split(".")[0].startswith(HEAVY))
    assert heavy == [], heavy[:10]


def test_classify_reads_its_models_and_rubrics_from_the_cache_without_catalog_models_yaml_or_rich(tmp_path):
    """What keeps `trainer classify` within its start-up target: a second run (the cache filled by the
    first) imports neither the catalog's models nor PyYAML nor Rich, and labels the same."""
    line = '{"id": 1, "text": "What is on your plate this quarter?"}\n'
    runs = [imports_of(("classify",), line, {"XDG_CACHE_HOME": str(tmp_path / "cache")}) for _ in range(2)]
    (first, _), (second, imported) = runs
    assert first == second and json.loads(second)["focus"] == "customer"
    assert "trainer.grader.assess" in imported  # the measurement worked
    loaded = sorted(
        n for n in imported if n in ("trainer.schema", "trainer.catalog") or n.startswith(("yaml", "rich"))
    )
    assert loaded == []
    assert len(list((tmp_path / "cache" / "trainer").glob("*"))) == 4  # two models, two rubric files


def test_personas_and_scenarios_json_shapes():
    personas = cli_json("personas", "--json")[0]
    assert {"id", "name", "title", "path"} <= set(personas[0])
    assert any(p["id"] == "cost_cutting_vp" for p in personas)
    scenarios = cli_json("scenarios", "--json")[0]
    assert {"id", "title", "persona", "path"} <= set(scenarios[0])


def test_classify_labels_jsonl_in_order():
    lines = [
        {
            "id": "a",
            "text": "What's keeping you up at night about the rollout?",
            "context": "We start next month.",
        },
        {
            "id": "b",
            "text": "Our platform cuts onboarding time by 40%, can I show you a demo?",
            "context": None,
        },
        {"id": "c", "text": "Thanks for having me.", "context": "Come in."},
    ]
    out = cli_json("classify", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert [o["focus"] for o in out] == ["customer", "pitch", "neutral"]
    assert out[0]["question"] == "open"
    assert out[2]["question"] is None


def test_classify_names_the_bad_line(tmp_path):
    path = tmp_path / "turns.jsonl"
    path.write_text('{"id": 1, "text": "Hello"}\n{"id": 2, "text": 5}\n')
    result = cli("classify", str(path))
    assert result.returncode == 2
    assert "turns.jsonl: line 2: text" in result.stderr


def test_grade_reads_json_stdin_and_plain_text(tmp_path):
    transcript = {
        "id": "call-1",
        "turns": [
            {"speaker": "persona", "text": "We're under pressure on costs."},
            {"speaker": "trainee", "text": "What's behind that pressure, and who is feeling it most?"},
            {"speaker": "persona", "text": "The CFO, mostly."},
            {
                "speaker": "trainee",
                "text": "So the CFO is pushing. What happens if the savings don't land by Q3?",
            },
        ],
    }
    plain = tmp_path / "call.txt"
    plain.write_text(
        "Customer: We're under pressure on costs.\n"
        "Rep: Our product is 30% cheaper than anything else, we have a discount this month.\n"
        "Customer: Right.\nRep: Can I book you in for a demo on Tuesday?\n"
    )
    out = cli_json("grade", "-", str(plain), stdin=json.dumps(transcript))
    assert [card["id"] for card in out] == ["call-1", "call"]
    assert out[0]["overall"] > out[1]["overall"] + 30
    for card in out:
        assert set(card["dimensions"]) >= {"customer_focus", "question_quality", "listening"}
        assert len(card["turns"]) == 2 and card["tips"]
        assert all(0 <= v <= 100 for v in card["dimensions"].values())


def test_grade_rejects_malformed_transcripts(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"turns": [{"speaker": "narrator", "text": "hi"}]}))
    result = cli("grade", str(bad))
    assert result.returncode == 2
    assert "bad.json: turns.0.speaker" in result.stderr
    noprefix = tmp_path / "noprefix.txt"
    noprefix.write_text("hello there\n")
    result = cli("grade", str(noprefix))
    assert result.returncode == 2 and "line 1" in result.stderr


ZOOM_EXPORT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v Alex Kim>Thanks for making time, Renata.

2
00:00:04.500 --> 00:00:09.000
<v Renata Okafor>Twenty minutes. The CFO review is at nine.

3
00:00:09.500 --> 00:00:12.000
<v Alex Kim>What's weighing on you most

4
00:00:12.000 --> 00:00:14.000
<v Alex Kim>before that review?

5
00:00:14.500 --> 00:00:18.000
<v Renata Okafor>Twelve percent off supplier spend, and a story for the board.
"""


def test_grade_reads_a_call_export_with_named_speakers_once_told_who_the_rep_is(tmp_path):
    call = tmp_path / "zoom.vtt"
    call.write_text(ZOOM_EXPORT)
    (card,) = cli_json("grade", str(call), "--rep", "alex kim")
    assert [t["text"] for t in card["turns"]] == [
        "Thanks for making time, Renata.",
        "What's weighing on you most before that review?",  # two cues of one voice, one turn
    ]
    assert card["turns"][1]["focus"] == "customer" and card["turns"][1]["question"] == "open"
    unsaid = cli("grade", str(call))
    assert unsaid.returncode == 2 and unsaid.stderr.count("\n") == 1
    assert "'Alex Kim', 'Renata Okafor' are named" in unsaid.stderr and "--rep NAME" in unsaid.stderr
    wrong = cli("grade", str(call), "--rep", "Bob")
    assert wrong.returncode == 2 and "the rep 'Bob' never speaks" in wrong.stderr


def test_named_speakers_in_plain_text_with_timestamps_and_a_stray_label():
    text = (
        "[00:00:03] Alex Kim: Thanks for making time.\n"
        "[00:00:05] José Núñez: Sure. We have twenty minutes.\n"
        "Note: the CFO joins at ten.\n"
        "00:09 Alex Kim: What would a good outcome look like for you?\n"
        "(00:12) José Núñez: Savings, obviously.\n"
    )
    (transcript,) = parse_transcripts(text, "call.txt", rep="Alex Kim")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("trainee", "Thanks for making time."),
        ("persona", "Sure. We have twenty minutes. Note: the CFO joins at ten."),
        ("trainee", "What would a good outcome look like for you?"),
        ("persona", "Savings, obviously."),
    ]
    # Role prefixes work as before, with or without a rep name.
    (roles,) = parse_transcripts("Rep: Hi\nCustomer: Hello\nRep: What's up?\n", "call.txt")
    assert [t.speaker for t in roles.turns] == ["trainee", "persona", "trainee"]


def test_chat_reads_lines_from_a_pipe_and_ends_with_a_scorecard():
    lines = (SCRIPTS / "vp_budget_review.pitch.txt").read_text() * 3
    result = cli("chat", "--scenario", "vp_budget_review", "--seed", "3", stdin=lines)
    assert result.returncode == 0, result.stderr
    assert "Renata Okafor" in result.stdout and "Scorecard" in result.stdout
    assert "Session ended: patience" in result.stdout


FIRST, SECOND = "What's on your plate this quarter?", "What does that pressure mean for you personally?"


def _session_id(result: subprocess.CompletedProcess) -> str:
    match = re.search(r"Session (\w+) — resume with: trainer chat --resume \1\n", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_chat_prints_its_session_id_and_resumes_from_the_one_database(isolated_data_dir):
    first = cli("chat", "--seed", "3", stdin=FIRST + "\n")
    assert first.returncode == 0, first.stderr
    session_id = _session_id(first)  # printed as the chat starts, so a killed chat can resume too
    second = cli("chat", "--resume", session_id, stdin=SECOND + "\n")
    assert second.returncode == 0, second.stderr
    assert f"you: {FIRST}" in second.stdout and f"you: {SECOND}" in second.stdout
    assert second.stdout.index(FIRST) < second.stdout.index(SECOND)
    assert (isolated_data_dir / "trainer.db").is_file()  # the app's database, the default URL's
    assert not (isolated_data_dir / "checkpoints.sqlite").exists()
    unknown = cli("chat", "--resume", "no-such-session")
    assert unknown.returncode == 2 and unknown.stderr == "error: no session 'no-such-session'\n"


def test_a_session_started_in_the_app_continues_in_chat_and_back(tmp_path, catalog):
    world = make_world(tmp_path, catalog)
    url = f"sqlite:///{tmp_path / 'trainer.db'}"
    ravi = world["ravi"]
    view = world.app.start(ravi, "s:vp_budget_review", seed=3)
    world.app.send(ravi, view.id, FIRST)
    resumed = cli("chat", "--resume", view.id, "--database-url", url, stdin=SECOND + "\n")
    assert resumed.returncode == 0, resumed.stderr
    assert f"you: {FIRST}" in resumed.stdout and f"you: {SECOND}" in resumed.stdout
    back = world.app.resume(ravi, view.id).view  # the browser's Continue: the terminal's turn is there
    assert back is not None and [t.text for t in back.turns if t.speaker == "trainee"] == [FIRST, SECOND]
    # A session played through the app's Sessions alone (no row in the store) resumes as well.
    bare = Sessions(catalog, checkpointer=world.store.db.checkpointer()).start("vp_budget_review", seed=1)
    assert cli("chat", "--resume", bare.id, "--database-url", url, stdin=SECOND + "\n").returncode == 0


def test_a_chat_started_in_the_terminal_continues_in_the_app(tmp_path, catalog):
    world = make_world(tmp_path, catalog)
    started = cli(
        "chat", "--seed", "3", "--database-url", f"sqlite:///{tmp_path / 'trainer.db'}", stdin=FIRST + "\n"
    )
    assert started.returncode == 0, started.stderr
    session_id = _session_id(started)
    assert session_id in [item.row.id for item in world.app.unfinished(LOCAL_USER)]
    view = world.app.send(LOCAL_USER, session_id, SECOND)
    assert [t.text for t in view.turns if t.speaker == "trainee"] == [FIRST, SECOND]


CATALOG_COMMANDS = [
    ("personas",),
    ("scenarios",),
    ("validate",),
    ("chat",),
    ("run", "--scenario", "vp_budget_review", "--trainee", "evals/scripts/vp_budget_review.pitch.txt"),
    ("grade", "evals/transcripts/mixed_call.json"),
    ("classify",),
    ("eval", "evals/suites"),
    ("serve", "--port", "1"),
    ("calibrate", "--data", "evals"),
]


@pytest.mark.parametrize("args", CATALOG_COMMANDS, ids=[a[0] for a in CATALOG_COMMANDS])
def test_every_command_that_reads_the_catalog_takes_catalog(args, tmp_path):
    help_text = cli(args[0], "--help", env={"COLUMNS": "220"}).stdout
    assert "--catalog" in help_text
    missing = tmp_path / "no-such-catalog"
    result = cli(*args, "--catalog", str(missing), stdin="")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == f"error: {missing}: catalog folder not found\n"


def test_built_wheel_finds_its_catalog_without_the_source_tree(tmp_path):
    """An installed trainer must find personas and scenarios inside the package, from any folder."""
    import subprocess
    import sys
    import zipfile

    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("trainer-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "trainer" / "_catalog" / "personas" / "cost_cutting_vp.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import trainer.catalog as c; print(c.builtin_root()); print(len(c.load_catalog().scenarios))",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    root, count = listed.stdout.split()
    assert root.startswith(str(site)) and int(count) >= 5
