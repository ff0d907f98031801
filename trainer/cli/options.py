"""Every flag more than one command takes, declared once, so `chat`, `run`, `eval` and the rest cannot drift.

The model-backend flags come as a decorator (inspect_ai's `common_options` idea, for typer): it appends the
chosen flags to a command's signature, which typer reads, and hands the command one `LLMFlags`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from trainer.llm.config import LLMConfig

Command = TypeVar("Command", bound=Callable[..., Any])


class UsageError(ValueError):
    """Bad input from the user; printed as one line, exit 2."""


CatalogOpt = Annotated[
    Path | None, typer.Option("--catalog", help="Folder with personas/ and scenarios/ (or $TRAINER_CATALOG).")
]
JsonOpt = Annotated[bool, typer.Option("--json")]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB"
        " (default: $TRAINER_DATABASE_URL, else a SQLite file in the data dir).",
    ),
]
JudgeOpt = Annotated[
    str, typer.Option("--judge", help="offline (the trained classifier) or llm (a model via --backend).")
]
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="offline (no network), openai (any OpenAI-compatible server) or replay (recorded replies). "
        "Default: openai when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline.",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model for the persona voice (and the judge unless --judge-model)."),
]
JudgeModelOpt = Annotated[str | None, typer.Option("--judge-model", help="Model for the LLM judge.")]
TemperatureOpt = Annotated[
    float | None, typer.Option("--temperature", help="Sampling temperature of the voice.")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="TOML config file (default: ./trainer.toml or ~/.config/trainer)."),
]
RecordOpt = Annotated[
    bool, typer.Option("--record", help="Use the real endpoint and write every model exchange to cassettes.")
]
ReplayOpt = Annotated[
    bool, typer.Option("--replay", help="Serve model replies from cassettes only; no network.")
]
CassettesOpt = Annotated[
    Path | None, typer.Option("--cassettes", help="Folder of recorded exchanges (default evals/recordings).")
]

# Each backend flag with its default, in the order --help lists them.
BACKEND_FLAGS: dict[str, tuple[Any, Any]] = {
    "backend": (BackendOpt, "auto"),
    "model": (ModelOpt, None),
    "judge_model": (JudgeModelOpt, None),
    "temperature": (TemperatureOpt, None),
    "config": (ConfigOpt, None),
    "record": (RecordOpt, False),
    "replay": (ReplayOpt, False),
    "cassettes": (CassettesOpt, None),
}
# What a command that plays a persona takes (chat, run); eval adds --judge-model.
VOICE_FLAGS = ("backend", "model", "temperature", "config", "record", "replay", "cassettes")
# What a command that only judges takes (grade, classify): there --model names the judge.
JUDGE_FLAGS = ("backend", "model", "config", "replay", "cassettes")


@dataclass(frozen=True)
class LLMFlags:
    """The backend flags as given (None/False: not given); `settings()` settles them with env and config."""

    backend: str = "auto"
    model: str | None = None
    judge_model: str | None = None
    temperature: float | None = None
    config: Path | None = None
    record: bool = False
    replay: bool = False
    cassettes: Path | None = None
    model_is_judge: bool = False  # grade/classify: --model is the judge, the only model they use

    def settings(self) -> LLMConfig:
        """Settle the model backend from flags, environment and config file (see llm/config.py)."""
        from trainer.llm.config import resolve

        voice, judge = (None, self.model) if self.model_is_judge else (self.model, self.judge_model)
        return resolve(
            backend=self.backend,
            model=voice,
            judge_model=judge,
            temperature=self.temperature,
            config_path=self.config,
            record=self.record,
            replay=self.replay,
            cassettes=self.cassettes,
        )


def backend_options(*names: str, model_is_judge: bool = False) -> Callable[[Command], Command]:
    """Give a command the backend flags `names` (see BACKEND_FLAGS), received as one `llm: LLMFlags`.

    Typer builds options from `inspect.signature`, which honours `__signature__`: the command's own
    parameters minus `llm`, then the chosen flags with their shared help text and defaults.
    """
    unknown = set(names) - set(BACKEND_FLAGS)
    if unknown:
        raise ValueError(f"backend_options: no such flag {sorted(unknown)}")

    def decorate(command: Command) -> Command:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "llm"]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
            for name, (annotation, default) in BACKEND_FLAGS.items()
            if name in names
        ]

        @functools.wraps(command)
        def with_flags(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names}
            return command(**kwargs, llm=LLMFlags(**given, model_is_judge=model_is_judge))

        parameters = own + added
        with_flags.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        with_flags.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_flags  # type: ignore[return-value]

    return decorate


def store_at(database_url: str | None) -> Any:
    """The team store the URL names; a bad URL or an unreachable server is a one-line usage error."""
    from trainer.team.database import StoreError
    from trainer.team.store import open_store

    try:
        return open_store(database_url)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
