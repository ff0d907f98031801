"""Which backend answers, and with what settings: defaults < config file < environment < flags."""

from __future__ import annotations

import json

import pytest

from trainer.llm.config import ConfigError, chat_model, resolve


def write(tmp_path, text: str):
    path = tmp_path / "trainer.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_key_and_no_base_url_stays_offline():
    config = resolve(env={})
    assert config.backend == "offline" and not config.uses_model


@pytest.mark.parametrize(
    "env", [{"OPENAI_API_KEY": "sk-test-SECRET-123456"}, {"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}]
)
def test_a_key_or_a_base_url_selects_the_openai_backend(env):
    assert resolve(env=env).backend == "openai"


def test_flags_beat_environment_beat_file(tmp_path):
    path = write(
        tmp_path,
        '[llm]\nbase_url = "http://file:1/v1"\nvoice_model = "file-model"\n'
        "temperature = 0.1\nmax_attempts = 2\n",
    )
    env = {"TRAINER_VOICE_MODEL": "env-model", "TRAINER_TEMPERATURE": "0.3"}
    config = resolve(config_path=path, env=env)
    assert (config.base_url, config.voice_model, config.temperature, config.max_attempts) == (
        "http://file:1/v1",
        "env-model",
        0.3,
        2,
    )
    assert config.backend == "openai"  # a base URL in the file counts too
    flagged = resolve(config_path=path, env=env, model="flag-model", temperature=0.9, backend="offline")
    assert (flagged.voice_model, flagged.judge_model, flagged.temperature, flagged.backend) == (
        "flag-model",
        "flag-model",
        0.9,
        "offline",
    )


def test_a_key_in_the_config_file_is_refused_and_api_key_env_names_one(tmp_path):
    with pytest.raises(ConfigError, match=r"llm\.api_key: keep keys out of files"):
        resolve(config_path=write(tmp_path, '[llm]\napi_key = "sk-oops"\n'), env={})
    config = resolve(
        config_path=write(tmp_path, '[llm]\napi_key_env = "GATEWAY_KEY"\n'), env={"GATEWAY_KEY": "k-1"}
    )
    assert config.api_key.get_secret_value() == "k-1" and "k-1" not in repr(config) + config.describe()


def test_config_file_found_in_the_working_folder(tmp_path, monkeypatch):
    write(tmp_path, '[llm]\nvoice_model = "from-cwd"\n')
    monkeypatch.chdir(tmp_path)
    assert resolve(env={"HOME": str(tmp_path)}).voice_model == "from-cwd"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"backend": "openai"}, "set OPENAI_API_KEY, or OPENAI_BASE_URL"),
        ({"backend": "carrier-pigeon"}, "unknown backend 'carrier-pigeon'"),
        ({"record": True, "replay": True}, "choose one"),
        ({"temperature": 7.0}, "temperature"),
    ],
)
def test_bad_settings_say_which(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        resolve(env={}, **kwargs)


def test_replay_asks_for_the_models_the_recording_used(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"voice_model": "rec-model", "temperature": 0.2}))
    config = resolve(replay=True, cassettes=tmp_path, env={})
    assert (config.backend, config.voice_model, config.temperature) == ("replay", "rec-model", 0.2)
    assert resolve(replay=True, cassettes=tmp_path, model="other", env={}).voice_model == "other"


def test_turn_budget_bounds_each_call_and_defaults_to_what_a_rep_would_wait(tmp_path):
    default = chat_model(resolve(env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    assert default.retry.budget == 30.0  # every attempt and wait of one call, not 4 x the 60 s timeout
    path = write(tmp_path, '[llm]\nbase_url = "http://127.0.0.1:9/v1"\nturn_budget = 12.5\n')
    assert chat_model(resolve(config_path=path, env={})).retry.budget == 12.5
    with pytest.raises(ConfigError, match=r"turn_budget: Input should be greater than 0"):
        resolve(config_path=write(tmp_path, "[llm]\nturn_budget = 0\n"), env={})
