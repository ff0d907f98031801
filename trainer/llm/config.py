"""Which model backend to use and how: from defaults, a config file, the environment and CLI flags.

Later sources win: defaults < config file < environment < flags. With no key and no base URL anywhere,
everything stays offline. The API key is held as a secret and never printed.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from trainer.llm.cassettes import CassetteLibrary, ReplayChatModel
from trainer.llm.seam import ChatModel
from trainer.rubrics import SOURCE_TREE

Backend = Literal["offline", "openai", "replay"]
BACKENDS: tuple[str, ...] = ("offline", "openai", "replay")
DEFAULT_CASSETTES = SOURCE_TREE / "evals" / "recordings"
MANIFEST = "manifest.json"


class ConfigError(ValueError):
    """A bad setting; str() is one line naming the file or flag at fault."""


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Backend = "offline"
    base_url: str | None = None
    api_key: SecretStr | None = None
    voice_model: str = "gpt-4o-mini"
    judge_model: str = "gpt-4o-mini"
    temperature: float = Field(default=0.7, ge=0, le=2)
    judge_temperature: float = Field(default=0.0, ge=0, le=2)
    timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds per request before it counts as failed (at most what is left of turn_budget).",
    )
    max_attempts: int = Field(default=4, ge=1, le=10, description="Tries per call, the first included.")
    turn_budget: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one model call may take in all, every retry and wait included.",
    )
    max_tokens: int = Field(default=160, ge=16, description="Longest reply, in tokens.")
    structured_output: Literal["json_schema", "json_object"] = Field(
        default="json_schema", description="How to ask for JSON: json_object suits llama.cpp's server."
    )
    concurrency: int = Field(default=4, ge=1, le=32, description="Eval cases played at once.")
    record: bool = False
    cassettes: Path = DEFAULT_CASSETTES

    @property
    def uses_model(self) -> bool:
        return self.backend != "offline"

    def describe(self) -> str:
        """One line for people: what will answer, never the key."""
        if self.backend == "offline":
            return "offline (authored lines, no network)"
        if self.backend == "replay":
            return f"replay from {self.cassettes} (model {self.voice_model}, no network)"
        where = self.base_url or "api.openai.com"
        return f"openai-compatible at {where}, model {self.voice_model}" + (
            " (recording)" if self.record else ""
        )


# The file's keys, and the environment variables, that map to settings.
FILE_KEYS = {
    "backend", "base_url", "voice_model", "judge_model", "temperature", "judge_temperature", "timeout",
    "max_attempts", "turn_budget", "max_tokens", "concurrency", "cassettes", "api_key_env",
    "structured_output",
}  # fmt: skip
ENV_KEYS = {
    "OPENAI_BASE_URL": "base_url",
    "TRAINER_VOICE_MODEL": "voice_model",
    "TRAINER_JUDGE_MODEL": "judge_model",
    "TRAINER_TEMPERATURE": "temperature",
}


def config_file(explicit: Path | None = None, env: dict[str, str] | None = None) -> Path | None:
    """`--config`, `$TRAINER_CONFIG`, `./trainer.toml`, then `~/.config/trainer/config.toml`."""
    env = os.environ if env is None else env
    chosen = explicit or (Path(env["TRAINER_CONFIG"]) if env.get("TRAINER_CONFIG") else None)
    if chosen is not None:
        if not chosen.expanduser().is_file():
            raise ConfigError(f"{chosen}: config file not found")
        return chosen.expanduser()
    home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for candidate in (Path("trainer.toml"), home / "trainer" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    section = data.get("llm", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [llm] must be a table")
    if "api_key" in section:
        raise ConfigError(
            f"{path}: llm.api_key: keep keys out of files; "
            "set OPENAI_API_KEY or name a variable with api_key_env"
        )
    unknown = set(section) - FILE_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: llm.{sorted(unknown)[0]}: unknown setting (known: {', '.join(sorted(FILE_KEYS))})"
        )
    return dict(section)


def _manifest(cassettes: Path) -> dict[str, Any]:
    path = cassettes / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid JSON ({exc})") from None


def resolve(
    *,
    backend: str | None = None,
    model: str | None = None,
    judge_model: str | None = None,
    temperature: float | None = None,
    base_url: str | None = None,
    record: bool = False,
    replay: bool = False,
    cassettes: Path | None = None,
    config_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> LLMConfig:
    """Settle every setting; flags are the arguments (None = not given)."""
    env = dict(os.environ if env is None else env)
    settings: dict[str, Any] = {}
    source = config_file(config_path, env)
    key_env = "OPENAI_API_KEY"
    if source is not None:
        settings.update(_read_file(source))
        key_env = settings.pop("api_key_env", key_env)
    for var, name in ENV_KEYS.items():
        if env.get(var):
            settings[name] = env[var]
    api_key = env.get(key_env) or env.get("OPENAI_API_KEY")
    flags = {"voice_model": model, "judge_model": judge_model or model, "temperature": temperature}
    flags |= {"base_url": base_url, "cassettes": cassettes}
    settings.update({k: v for k, v in flags.items() if v is not None})

    if record and replay:
        raise ConfigError("--record and --replay: choose one")
    chosen = "replay" if replay else (backend if backend not in (None, "auto") else settings.get("backend"))
    if record and chosen in (None, "auto"):
        chosen = "openai"
    if chosen in (None, "auto"):
        chosen = "openai" if api_key or settings.get("base_url") else "offline"
    if chosen not in BACKENDS:
        raise ConfigError(f"--backend: unknown backend {chosen!r} (use offline, openai or replay)")
    if record and chosen != "openai":
        raise ConfigError(f"--record needs a real endpoint (--backend openai), not {chosen}")
    if chosen == "openai" and not (api_key or settings.get("base_url")):
        raise ConfigError("--backend openai: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server")
    settings["backend"] = chosen
    settings["record"] = record
    if chosen == "replay":  # replay what was recorded: the recording's models, unless a flag says otherwise
        recorded = _manifest(Path(settings.get("cassettes") or DEFAULT_CASSETTES))
        for name in ("voice_model", "judge_model", "temperature", "judge_temperature"):
            if name in recorded and flags.get(name) is None:
                settings[name] = recorded[name]
    if api_key:
        settings["api_key"] = api_key
    try:
        return LLMConfig.model_validate(settings)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}{'.'.join(map(str, err['loc']))}: {err['msg']}") from None


REPLAY_HINT = "If the prompt changed on purpose, re-record: trainer eval SUITE --record (see README)"


def chat_model(
    config: LLMConfig, case: str | None = None, cassettes: CassetteLibrary | None = None
) -> ChatModel | None:
    """The backend's ChatModel (None when offline); replay shares one loaded library across cases."""
    if config.backend == "offline":
        return None
    if config.backend == "replay":
        return ReplayChatModel(cassettes or CassetteLibrary(config.cassettes), case=case, hint=REPLAY_HINT)
    from trainer.llm.openai_client import OpenAIChatModel, RetryPolicy  # the SDK only when it is used

    return OpenAIChatModel(
        config.base_url,
        config.api_key.get_secret_value() if config.api_key else None,
        timeout=config.timeout,
        retry=RetryPolicy(attempts=config.max_attempts, budget=config.turn_budget),
        max_tokens=config.max_tokens,
        structured=config.structured_output,
    )
