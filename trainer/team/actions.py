"""Every rep and manager action of the web app as a plain function of (signed-in user, inputs).

The Gradio layer only resolves the user and renders results; access is checked here, on the server,
for every call, so a crafted API request with another user's ids gets the same refusal as the UI.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from trainer.catalog import Catalog
from trainer.grader.scorecard import DIMENSIONS, grade_session, grade_transcript
from trainer.grader.transcripts import parse_transcripts
from trainer.roleplay.session import SessionError, Sessions, SessionView
from trainer.schema import Scorecard, Transcript
from trainer.team.access import AccessDenied, require_manager, require_session
from trainer.team.store import Assignment, Comment, SessionRow, Store, StoreError, User

MODES = ("training", "assessment")
STUCK_AFTER = 2  # failed attempts at an assignment before a manager sees "stuck"


@dataclass(frozen=True)
class ScenarioOption:
    """One entry of the rep's scenario picker; assigned ones carry their due date and pass mark."""

    key: str
    scenario_id: str
    title: str
    pass_mark: int
    assignment: Assignment | None = None

    @property
    def label(self) -> str:
        if self.assignment is None:
            return self.title
        due = f"due {self.assignment.due}" if self.assignment.due else "no due date"
        return f"★ {self.title} · {due} · pass {self.pass_mark}"


@dataclass
class Opened:
    """A session as the viewer may see it: transcript, scorecard when ended, manager comments."""

    row: SessionRow
    transcript: dict[str, Any]
    scorecard: Scorecard | None
    comments: list[Comment]
    view: SessionView | None = None


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


class TrainerApp:
    """The app's use cases over the catalog, the store and the session graph."""

    def __init__(self, catalog: Catalog, store: Store, sessions: Sessions) -> None:
        self.catalog, self.store, self.sessions = catalog, store, sessions
        self.streams = "on_token" in inspect.signature(sessions.send).parameters

    # ------------------------------------------------------------ rep: picking and playing

    def scenario_options(self, user: User) -> list[ScenarioOption]:
        """Assigned scenarios first (soonest due first), then the whole catalog."""
        options = []
        for item in self.store.assignments_for(user):
            if item.scenario_id in self.catalog.scenarios:
                title = self.catalog.scenario(item.scenario_id).title
                options.append(ScenarioOption(f"a:{item.id}", item.scenario_id, title, item.pass_mark, item))
        for scenario in self.catalog.scenarios.values():
            options.append(
                ScenarioOption(f"s:{scenario.id}", scenario.id, scenario.title, scenario.pass_mark)
            )
        return options

    def option(self, user: User, key: str) -> ScenarioOption:
        found = next((o for o in self.scenario_options(user) if o.key == key), None)
        if found is None:
            raise AccessDenied("Pick a scenario from the list.")
        return found

    def card(self, scenario_id: str) -> dict[str, Any]:
        """Only what the rep may know: never the persona's hidden motives, style or patience."""
        scenario = self.catalog.scenario(scenario_id)
        persona = self.catalog.persona(scenario.persona)
        return {
            "name": persona.name,
            "title": persona.title,
            "organisation": persona.organisation,
            "scenario": scenario.title,
            "setting": scenario.setting,
            "brief": scenario.brief,
            "objectives": [o.description for o in scenario.objectives],
            "difficulty": scenario.difficulty,
            "max_turns": scenario.max_turns,
        }

    def start(self, user: User, key: str, mode: str = "training", seed: int | None = None) -> SessionView:
        if mode not in MODES:
            raise SessionError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        option = self.option(user, key)
        view = self.sessions.start(option.scenario_id, seed=seed)
        self.store.add_session(
            view.id,
            user.name,
            scenario_id=option.scenario_id,
            mode=mode,
            assignment_id=option.assignment.id if option.assignment else None,
            pass_mark=option.pass_mark,
            title=option.title,
        )
        return view

    def _own_live(self, user: User, session_id: str) -> SessionRow:
        """Playing is for the owner only (a manager may read a rep's session, never speak in it)."""
        row = require_session(self.store, user, session_id)
        if row.username != user.name or row.source != "practice":
            raise AccessDenied("No such session, or it is not yours to open.")
        return row

    def _playable(self, user: User, session_id: str) -> SessionRow:
        """The owner's session, if it can still take a turn."""
        row = self._own_live(user, session_id)
        if row.ended:
            raise SessionError("This session has ended. Start a new one, or rewind in training mode.")
        return row

    def playable_view(self, user: User, session_id: str) -> SessionView:
        """The session as it stands, if the rep may send a turn in it (checked before any output)."""
        self._playable(user, session_id)
        return self.sessions.view(session_id)

    def send(
        self, user: User, session_id: str, text: str, on_token: Callable[[str], None] | None = None
    ) -> SessionView:
        """One rep turn; a backend failure raises and leaves the session as it was, ready to resend."""
        row = self._playable(user, session_id)
        if self.streams and on_token is not None:
            view = self.sessions.send(session_id, text, on_token=on_token)  # type: ignore[call-arg]
        else:
            view = self.sessions.send(session_id, text)
        if view.ended:
            self._finish(row, view, view.scorecard)
        return view

    def _finish(self, row: SessionRow, view: SessionView, card: Scorecard | None) -> Scorecard:
        scenario = self.catalog.scenario(view.scenario_id)
        if card is None:
            card = grade_session(
                view.turns,
                view.assessments,
                scenario=scenario,
                persona=self.catalog.persona(scenario.persona),
                state=view.state,
                transcript_id=view.id,
            )
        pass_mark = row.pass_mark if row.pass_mark is not None else scenario.pass_mark
        card = card.model_copy(
            update={"id": view.id, "pass_mark": pass_mark, "passed": card.overall >= pass_mark}
        )
        self.store.finish_session(row.id, card, view.transcript_json())
        return card

    def end(self, user: User, session_id: str) -> Scorecard:
        """The rep ends the session: grade the path taken so far (once; later calls return the same card)."""
        row = self._own_live(user, session_id)
        if row.ended:
            card = self.store.scorecard(session_id)
            assert card is not None
            return card
        view = self.sessions.view(session_id)
        if not any(t.speaker == "trainee" for t in view.turns):
            raise SessionError("Say something first: there is nothing to score yet.")
        return self._finish(row, view, view.scorecard)

    def view(self, user: User, session_id: str) -> SessionView:
        self._own_live(user, session_id)
        return self.sessions.view(session_id)

    def rewind_points(
        self, user: User, session_id: str, view: SessionView | None = None
    ) -> list[tuple[int, str]]:
        """(trainee turns kept, the rep line that would be replaced) for every earlier rep turn.

        Pass the view just read for this user, to save reading the session again.
        """
        if view is None or view.id != session_id:
            self._own_live(user, session_id)
            view = self.sessions.view(session_id)
        rep_lines = [t.text for t in view.turns if t.speaker == "trainee"]
        return [(n, line) for n, line in enumerate(rep_lines)]

    def rewind(self, user: User, session_id: str, keep_turns: int) -> SessionView:
        """Back to just after rep turn `keep_turns` (0 = the opening); training mode only."""
        row = self._own_live(user, session_id)
        if row.mode != "training":
            raise SessionError("Rewind is for training mode; an assessment counts every turn.")
        view = self.sessions.rewind(session_id, int(keep_turns))
        if row.ended:
            self.store.reopen_session(session_id)
        return view

    # ------------------------------------------------------------ rep: history, transcripts, uploads

    def my_sessions(self, user: User) -> list[SessionRow]:
        return self.store.sessions_of([user.name])[::-1]

    def open(self, user: User, session_id: str) -> Opened:
        row = require_session(self.store, user, session_id)
        transcript = self.store.transcript(session_id)
        view = None
        if transcript is None and row.source == "practice":
            view = self.sessions.view(session_id)
            transcript = view.transcript_json()
        return Opened(
            row=row,
            transcript=transcript or {"id": session_id, "turns": []},
            scorecard=self.store.scorecard(session_id),
            comments=self.store.comments(session_id),
            view=view,
        )

    def export(self, user: User, session_id: str, fmt: str) -> tuple[str, str]:
        """(file name, text) of a transcript in Markdown or the INTERFACES.md JSON format."""
        opened = self.open(user, session_id)
        if fmt == "json":
            data = {k: opened.transcript.get(k) for k in ("id", "scenario", "turns")}
            return f"transcript-{session_id}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        from trainer.web.views import transcript_markdown

        return f"transcript-{session_id}.md", transcript_markdown(opened, self.persona_name(opened.row))

    def persona_name(self, row: SessionRow) -> str:
        if row.scenario_id and row.scenario_id in self.catalog.scenarios:
            return self.catalog.persona(self.catalog.scenario(row.scenario_id).persona).name
        return "Customer"

    def upload(
        self, user: User, text: str, filename: str = "upload", rep: str | None = None
    ) -> tuple[SessionRow, Scorecard]:
        """Grade a real call's transcript (JSON, `Rep:` / `Customer:` text, or named speakers with `rep`
        naming the rep) and keep it in the history."""
        transcripts = parse_transcripts(text, filename, rep)
        if len(transcripts) != 1:
            raise SessionError(f"{filename}: one transcript per upload, please (found {len(transcripts)})")
        transcript: Transcript = transcripts[0]
        if not any(t.speaker == "trainee" for t in transcript.turns):
            raise SessionError(f"{filename}: no rep turns found (prefix them with 'Rep:')")
        scenario = self.catalog.scenarios.get(transcript.scenario or "")
        card = grade_transcript(transcript, scenario)
        session_id = "up-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[-12:]
        title = f"Uploaded call: {filename.rsplit('/', 1)[-1]}"
        row = self.store.add_session(
            session_id,
            user.name,
            scenario_id=scenario.id if scenario else None,
            mode="upload",
            source="upload",
            pass_mark=card.pass_mark,
            title=title,
        )
        card = card.model_copy(update={"id": session_id})
        data = {
            "id": session_id,
            "scenario": transcript.scenario,
            "turns": [t.model_dump() for t in transcript.turns],
        }
        self.store.finish_session(session_id, card, data)
        return row, card

    def comment(self, user: User, session_id: str, text: str) -> Comment:
        """A manager's note on a team member's session (the rep sees it with the transcript)."""
        row = require_session(self.store, user, session_id)
        if not text.strip():
            raise SessionError("Write a comment first.")
        if row.username == user.name and not user.is_manager:
            raise AccessDenied("Comments are for managers reviewing their team.")
        return self.store.add_comment(session_id, user.name, text[:4000])

    # ------------------------------------------------------------ manager

    def team_reps(self, user: User) -> list[User]:
        require_manager(user)
        return [u for u in self.store.users(team=user.team) if u.role == "rep"]

    def team_sessions(self, user: User) -> list[SessionRow]:
        reps = [u.name for u in self.team_reps(user)]
        return self.store.sessions_of(reps)[::-1]

    def assign(
        self,
        user: User,
        scenario_id: str,
        reps: list[str] | None = None,
        whole_team: bool = False,
        due: str | None = None,
        pass_mark: int | None = None,
    ) -> list[Assignment]:
        require_manager(user)
        scenario = self.catalog.scenario(scenario_id)
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
                self.store.add_assignment(
                    scenario.id, pass_mark=mark, created_by=user.name, team=user.team, due=due
                )
            ]
        members = {u.name for u in self.team_reps(user)}
        chosen = [r for r in (reps or []) if r]
        if not chosen:
            raise SessionError("Pick at least one rep, or the whole team.")
        outside = [r for r in chosen if r not in members]
        if outside:
            raise AccessDenied(f"Not in your team: {', '.join(outside)}")
        return [
            self.store.add_assignment(scenario.id, pass_mark=mark, created_by=user.name, assignee=r, due=due)
            for r in chosen
        ]

    def status(self, user: User) -> list[StatusRow]:
        """Per assignment and rep: not started, in progress, passed, stuck (failed twice) or overdue."""
        reps = self.team_reps(user)
        names = {u.name for u in reps}
        sessions = self.store.sessions_of(sorted(names))
        rows = []
        for item in self.store.team_assignments(user.team):
            targets = sorted(names) if item.team else [item.assignee] if item.assignee in names else []
            title = (
                self.catalog.scenarios[item.scenario_id].title
                if item.scenario_id in self.catalog.scenarios
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

    def dashboard(self, user: User) -> Dashboard:
        reps = [u.name for u in self.team_reps(user)]
        sessions = [s for s in self.store.sessions_of(reps) if s.overall is not None]
        status = self.status(user)
        scores: dict[tuple[str, str], dict[str, Any]] = {}
        trends: dict[str, list[tuple[str, float]]] = {r: [] for r in reps}
        dims: dict[str, dict[str, list[float]]] = {r: {d: [] for d in DIMENSIONS} for r in reps}
        for s in sessions:
            key = (s.username, s.title or s.scenario_id or "")
            entry = scores.setdefault(
                key, {"rep": s.username, "scenario": key[1], "attempts": 0, "best": 0.0}
            )
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
            mine = [r for r in status if r.rep == rep]
            completion[rep] = sum(r.status == "passed" for r in mine) / len(mine) if mine else 1.0
        means = {
            rep: {d: round(statistics.fmean(v), 1) for d, v in per.items() if v} for rep, per in dims.items()
        }
        return Dashboard(
            reps=reps,
            status=status,
            scores=sorted(scores.values(), key=lambda e: (e["rep"], e["scenario"])),
            trends=trends,
            dimensions=means,
            completion=completion,
        )

    def export_csv(self, user: User) -> str:
        """Every scored session of the team, one row each, with the dimension scores."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "rep",
                "session",
                "scenario",
                "mode",
                "started",
                "ended",
                "overall",
                "passed",
                "pass_mark",
                *DIMENSIONS,
            ]
        )
        for s in self.team_sessions(user)[::-1]:
            dims = s.dimensions or {}
            writer.writerow(
                [
                    s.username,
                    s.id,
                    s.scenario_id or s.title,
                    s.mode,
                    s.started_at,
                    s.ended_at or "",
                    "" if s.overall is None else s.overall,
                    "" if s.passed is None else ("yes" if s.passed else "no"),
                    s.pass_mark if s.pass_mark is not None else "",
                    *[dims.get(d, "") for d in DIMENSIONS],
                ]
            )
        return out.getvalue()


def store_error_text(exc: Exception) -> str:
    """One friendly line for the UI, whatever layer raised."""
    if isinstance(exc, (AccessDenied, SessionError, StoreError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
