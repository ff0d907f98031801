"""What an eval case expected against what happened: layers, scores, labels and the persona's words.

Each function returns failure lines a person can read ("over_here: must be open by turn 3, never opened").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.evals.suites import Expect, SetTarget
from trainer.roleplay.reply_guard import locked_leaks, phrase_hits, prompt_leak
from trainer.roleplay.session import SessionView
from trainer.schema import Persona


def at_turn(views: list[SessionView], turn: int | None) -> SessionView:
    return views[-1] if turn is None else views[min(turn, len(views) - 1)]


def layer_failures(expect: Expect, views: list[SessionView], known: set[str]) -> list[str]:
    failures = []
    for want in expect.unlocked:
        if want.layer not in known:
            failures.append(f"unlocked: persona has no layer {want.layer!r}")
        elif want.layer not in at_turn(views, want.by_turn).state.unlocked:
            opened = next((k for k, v in enumerate(views) if want.layer in v.state.unlocked), None)
            when = f"opened at turn {opened}" if opened is not None else "never opened"
            failures.append(f"{want.layer}: must be open by turn {want.by_turn}, {when}")
    for closed in expect.locked:
        view = at_turn(views, closed.through_turn)
        layers = sorted(known) if closed.layer == "all" else [closed.layer]
        upto = f"through turn {closed.through_turn}" if closed.through_turn is not None else "to the end"
        for layer in layers:
            if layer not in known:
                failures.append(f"locked: persona has no layer {layer!r}")
            elif layer in view.state.unlocked:
                failures.append(f"{layer}: must stay closed {upto}, but opened")
    return failures


def score_failures(expect: Expect, scores: dict[str, float]) -> list[str]:
    failures = []
    for name, (low, high) in expect.scores.items():
        if name not in scores:
            failures.append(f"scores: no dimension {name!r} (have {', '.join(scores)})")
        elif not low <= scores[name] <= high:
            failures.append(f"{name}: {scores[name]:.1f} not in [{low:g}, {high:g}]")
    return failures


def label_failures(expect: Expect, labels: list[dict[str, Any]]) -> list[str]:
    failures = []
    for want in expect.labels:
        if want.turn > len(labels):
            failures.append(f"labels: turn {want.turn} was never played")
            continue
        got = labels[want.turn - 1]
        for name in ("focus", "question", "move"):
            wanted = getattr(want, name)
            if wanted is None:
                continue
            value = got.get(name) or "none"
            if value != wanted:
                failures.append(f"turn {want.turn} {name}: expected {wanted}, got {value}")
    return failures


def speech_failures(expect: Expect, views: list[SessionView], persona: Persona, root: Path) -> list[str]:
    """What the persona said that it must never say, turn by turn (`root`: the prompts folder)."""
    failures = []
    for k, view in enumerate(views):
        if k and views[k - 1].turns == view.turns:
            continue
        said = view.turns[-1].text if view.turns[-1].speaker == "persona" else ""
        where = f"turn {k}" if k else "opening"
        if "locked_facts" in expect.never:
            failures += [
                f"{where}: says locked layer {i}" for i in locked_leaks(said, persona, view.state.unlocked)
            ]
        cats = [c for c in ("breaking_character", "coaching") if c in expect.never]
        failures += [f"{where}: {hit}" for hit in phrase_hits(said, cats, root)]
        if "prompt_leak" in expect.never and prompt_leak(said, root):
            failures.append(f"{where}: repeats the persona instructions")
        low = said.lower()
        failures += [f"{where}: says {p!r}" for p in expect.never_says if p.lower() in low]
    return failures


def set_failures(
    targets: list[SetTarget], table: dict[str, dict[str, Any]]
) -> tuple[dict[str, float], list[str]]:
    """Each target's share of sessions, and a line for each one missed ("strong passed: 19 / 25 = 0.76,
    at least 0.80")."""
    shares: dict[str, float] = {}
    failures = []
    for t in targets:
        row = table.get(t.kind)
        if row is None:
            failures.append(f"{t.kind}: the set has no sessions of this kind")
            continue
        count, sessions = row[t.measure], row["sessions"]
        share = count / sessions
        shares[f"{t.kind}.{t.measure}"] = round(share, 4)
        seen = f"{t.kind} {t.measure}: {count} / {sessions} = {share:.2f}"
        if t.at_least is not None and share < t.at_least:
            failures.append(f"{seen}, at least {t.at_least:.2f}")
        if t.at_most is not None and share > t.at_most:
            failures.append(f"{seen}, at most {t.at_most:.2f}")
    return shares, failures
