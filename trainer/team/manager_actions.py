"""What a manager does, as plain functions of (the app, the signed-in manager, inputs): see the team,
assign scenarios, follow each assignment's status, read the dashboard, export scores, comment.

Every function starts from the manager's own team (`require_manager`), so no input can reach beyond it.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from trainer.grader.scorecard import DIMENSIONS
from trainer.roleplay.session import SessionError
from trainer.team.access import AccessDenied, require_manager, require_session
from trainer.team.exports import sessions_csv
from trainer.team.store import Assignment, Comment, SessionRow, User

if TYPE_CHECKING:
    from trainer.team.app import TrainerApp

STUCK_AFTER = 2  # failed attempts at an assignment before a manager sees "stuck"


@dataclass
class StatusRow:
    rep: str
    scenario_id: str
    title: str
    due: str | None
    pass_mark: int
    attempts: int
    best: float | None
    latest: float | None
    status: str  # not started | in progress | passed | stuck | overdue


@dataclass
class Dashboard:
    reps: list[str]
    status: list[StatusRow]
    scores: list[dict[str, Any]]  # best and latest per rep per scenario
    trends: dict[str, list[tuple[str, float]]]  # rep -> [(ended_at, overall)]
    dimensions: dict[str, dict[str, float]]  # rep -> dimension -> mean over their scored sessions
    completion: dict[str, float] = field(default_factory=dict)  # done share of assignments, per rep


def _today() -> date:
    return datetime.now(UTC).date()


def team_reps(app: TrainerApp, user: User) -> list[User]:
    require_manager(user)
    return [u for u in app.store.users(team=user.team) if u.role == "rep"]


def team_sessions(app: TrainerApp, user: User) -> list[SessionRow]:
    reps = [u.name for u in team_reps(app, user)]
    return app.store.sessions_of(reps)[::-1]


def assign(
    app: TrainerApp,
    user: User,
    scenario_id: str,
    reps: list[str] | None = None,
    whole_team: bool = False,
    due: str | None = None,
    pass_mark: int | None = None,
) -> list[Assignment]:
    require_manager(user)
    scenario = app.catalog.scenario(scenario_id)
    due = (due or "").strip() or None
    if due is not None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due):
            raise SessionError("Due date: use YYYY-MM-DD, e.g. 2025-12-01.")
        date.fromisoformat(due)
    mark = scenario.pass_mark if pass_mark is None else int(pass_mark)
    if not 0 <= mark <= 100:
        raise SessionError("Pass mark: 0 to 100.")
    if whole_team:
        if not user.team:
            raise SessionError("You have no team; assign to named reps instead.")
        return [
            app.store.add_assignment(
                scenario.id, pass_mark=mark, created_by=user.name, team=user.team, due=due
            )
        ]
    members = {u.name for u in team_reps(app, user)}
    chosen = [r for r in (reps or []) if r]
    if not chosen:
        raise SessionError("Pick at least one rep, or the whole team.")
    outside = [r for r in chosen if r not in members]
    if outside:
        raise AccessDenied(f"Not in your team: {', '.join(outside)}")
    return [
        app.store.add_assignment(scenario.id, pass_mark=mark, created_by=user.name, assignee=r, due=due)
        for r in chosen
    ]


def status(app: TrainerApp, user: User) -> list[StatusRow]:
    """Per assignment and rep: not started, in progress, passed, stuck (failed twice) or overdue."""
    reps = team_reps(app, user)
    names = {u.name for u in reps}
    sessions = app.store.sessions_of(sorted(names))
    rows = []
    for item in app.store.team_assignments(user.team):
        targets = sorted(names) if item.team else [item.assignee] if item.assignee in names else []
        title = (
            app.catalog.scenarios[item.scenario_id].title
            if item.scenario_id in app.catalog.scenarios
            else item.scenario_id
        )
        for rep in targets:
            mine = [s for s in sessions if s.username == rep and s.assignment_id == item.id]
            scored = [s for s in mine if s.overall is not None]
            passed = any(s.overall >= item.pass_mark for s in scored)  # type: ignore[operator]
            overdue = bool(item.due) and date.fromisoformat(item.due) < _today()  # type: ignore[arg-type]
            if passed:
                state = "passed"
            elif len(scored) >= STUCK_AFTER:
                state = "stuck"
            elif overdue:
                state = "overdue"
            elif mine:
                state = "in progress"
            else:
                state = "not started"
            rows.append(
                StatusRow(
                    rep=rep,
                    scenario_id=item.scenario_id,
                    title=title,
                    due=item.due,
                    pass_mark=item.pass_mark,
                    attempts=len(mine),
                    best=max((s.overall for s in scored), default=None),  # type: ignore[type-var]
                    latest=scored[-1].overall if scored else None,
                    status=state,
                )
            )
    return rows


def dashboard(app: TrainerApp, user: User) -> Dashboard:
    reps = [u.name for u in team_reps(app, user)]
    sessions = [s for s in app.store.sessions_of(reps) if s.overall is not None]
    rows = status(app, user)
    scores: dict[tuple[str, str], dict[str, Any]] = {}
    trends: dict[str, list[tuple[str, float]]] = {r: [] for r in reps}
    dims: dict[str, dict[str, list[float]]] = {r: {d: [] for d in DIMENSIONS} for r in reps}
    for s in sessions:
        key = (s.username, s.title or s.scenario_id or "")
        entry = scores.setdefault(key, {"rep": s.username, "scenario": key[1], "attempts": 0, "best": 0.0})
        entry["attempts"] += 1
        entry["best"] = max(entry["best"], s.overall or 0.0)
        entry["latest"] = s.overall
        entry["when"] = (s.ended_at or s.started_at)[:10]
        trends[s.username].append((s.ended_at or s.started_at, float(s.overall or 0.0)))
        for name, value in (s.dimensions or {}).items():
            if name in dims[s.username]:
                dims[s.username][name].append(value)
    completion = {}
    for rep in reps:
        mine = [r for r in rows if r.rep == rep]
        completion[rep] = sum(r.status == "passed" for r in mine) / len(mine) if mine else 1.0
    means = {
        rep: {d: round(statistics.fmean(v), 1) for d, v in per.items() if v} for rep, per in dims.items()
    }
    return Dashboard(
        reps=reps,
        status=rows,
        scores=sorted(scores.values(), key=lambda e: (e["rep"], e["scenario"])),
        trends=trends,
        dimensions=means,
        completion=completion,
    )


def export_csv(app: TrainerApp, user: User) -> str:
    """Every scored session of the team, one row each, with the dimension scores."""
    return sessions_csv(team_sessions(app, user)[::-1])


def comment(app: TrainerApp, user: User, session_id: str, text: str) -> Comment:
    """A manager's note on a team member's session (the rep sees it with the transcript)."""
    row = require_session(app.store, user, session_id)
    if not text.strip():
        raise SessionError("Write a comment first.")
    if row.username == user.name and not user.is_manager:
        raise AccessDenied("Comments are for managers reviewing their team.")
    return app.store.add_comment(session_id, user.name, text[:4000])
