"""Token usage and its estimated cost, per call, per session and per eval run.

Sessions keep tokens, not money: prices (rubrics/prices.yaml) change, so cost is worked out when shown.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from trainer.datafiles import CatalogError
from trainer.rubrics import builtin_root, load_mapping, rubric_path


class Usage(BaseModel):
    """What one or more model calls used; `estimated` when a server reported no token counts."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            estimated=self.estimated or other.estimated,
        )


def estimate_tokens(text: str) -> int:
    """About four characters a token: good enough to budget when the server does not count."""
    return max(1, round(len(text) / 4)) if text else 0


class Price(BaseModel):
    input: float = Field(ge=0, description="USD per million prompt tokens.")
    output: float = Field(ge=0, description="USD per million completion tokens.")


@cache
def _prices(path: Path) -> dict[str, Price]:
    data = load_mapping(rubric_path(path, "prices.yaml"))
    models = data.get("models", {})
    try:
        return {str(name).lower(): Price.model_validate(value) for name, value in models.items()}
    except Exception as exc:  # a manager's typo: name the file
        raise CatalogError(path / "rubrics" / "prices.yaml", f"bad price entry ({exc})") from None


def price_for(model: str, root: Path | None = None) -> Price | None:
    """Exact name first, then the longest listed name the model starts with (dated snapshots)."""
    prices = _prices((root or builtin_root()).resolve())
    name = model.lower().split("/")[-1]
    if name in prices:
        return prices[name]
    matches = [key for key in prices if name.startswith(key)]
    return prices[max(matches, key=len)] if matches else None


def cost_usd(by_model: dict[str, Usage], root: Path | None = None) -> float | None:
    """Estimated cost; None when any model used is missing from the price table."""
    total = 0.0
    for model, usage in by_model.items():
        price = price_for(model, root)
        if price is None:
            return None
        total += (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000
    return total


class Meter:
    """Adds up usage per model across threads (an eval run plays cases concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_model: dict[str, Usage] = {}

    def add(self, model: str, usage: Usage) -> None:
        with self._lock:
            self.by_model[model] = self.by_model.get(model, Usage()) + usage

    def merge(self, by_model: dict[str, Any]) -> None:
        for model, usage in by_model.items():
            self.add(model, usage if isinstance(usage, Usage) else Usage.model_validate(usage))

    @property
    def total(self) -> Usage:
        return sum(self.by_model.values(), Usage())

    def as_json(self) -> dict[str, Any]:
        total = self.total
        cost = cost_usd(self.by_model)
        return {
            "calls": total.calls,
            "prompt_tokens": total.prompt_tokens,
            "completion_tokens": total.completion_tokens,
            "total_tokens": total.total_tokens,
            "estimated_tokens": total.estimated,
            "cost_usd": None if cost is None else round(cost, 6),
            "by_model": {m: u.model_dump() for m, u in self.by_model.items()},
        }

    def summary(self) -> str:
        """One line for the terminal, e.g. `7 model calls, 5,210 tokens (4,900 in / 310 out), est. $0.0009`"""
        total = self.total
        if not total.calls:
            return "no model calls"
        approx = "~" if total.estimated else ""
        cost = cost_usd(self.by_model)
        money = (
            f"est. ${cost:.4f}" if cost is not None else "cost unknown (add the model to rubrics/prices.yaml)"
        )
        return (
            f"{total.calls} model call{'s' if total.calls != 1 else ''}, "
            f"{approx}{total.total_tokens:,} tokens "
            f"({total.prompt_tokens:,} in / {total.completion_tokens:,} out), {money}"
        )
