"""What a rep does, as plain functions of (the app, the signed-in user, inputs): pick a scenario, play,
end, rewind, read the history, export a transcript, grade an uploaded call.

Access is checked here, on the server, for every call, so a crafted API request with another user's ids
gets the same refusal as the UI. Opening and exporting a session serve managers reviewing it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from trainer.grader.scorecard import grade_transcript
from trainer.grader.transcripts import parse_transcripts
from trainer.roleplay.play import scorecard_of
from trainer.roleplay.session import SessionError, SessionView
from trainer.schema import Scorecard, Transcript
from trainer.team.access import AccessDenied, require_session
from trainer.team.exports import transcript_markdown
from trainer.team.store import Assignment, Comment, SessionRow, User

if TYPE_CHECKING:
    from trainer.team.app import TrainerApp

MODES = ("training", "assessment")


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


@dataclass(frozen=True)
class Unfinished:
    """A practice session of the rep's that can still take a turn: when it was last played and how many
    turns the rep has had; `view` is set once it is continued."""

    row: SessionRow
    last_played: str
    rep_turns: int
    view: SessionView | None = None

    @property
    def label(self) -> str:
        when = self.last_played[:16].replace("T", " ")
        turns = f"{self.rep_turns} turn{'s' if self.rep_turns != 1 else ''}"
        return f"{self.row.title or self.row.scenario_id} · {self.row.mode} · {turns} · last played {when}"


# ---------------------------------------------------------------- picking and playing


def scenario_options(app: TrainerApp, user: User) -> list[ScenarioOption]:
    """Assigned scenarios first (soonest due first), then the whole catalog."""
    options = []
    for item in app.store.assignments_for(user):
        if item.scenario_id in app.catalog.scenarios:
            title = app.catalog.scenario(item.scenario_id).title
            options.append(ScenarioOption(f"a:{item.id}", item.scenario_id, title, item.pass_mark, item))
    for scenario in app.catalog.scenarios.values():
        options.append(ScenarioOption(f"s:{scenario.id}", scenario.id, scenario.title, scenario.pass_mark))
    return options


def option(app: TrainerApp, user: User, key: str) -> ScenarioOption:
    found = next((o for o in scenario_options(app, user) if o.key == key), None)
    if found is None:
        raise AccessDenied("Pick a scenario from the list.")
    return found


def card(app: TrainerApp, scenario_id: str) -> dict[str, Any]:
    """Only what the rep may know: never the persona's hidden motives, style or patience."""
    scenario = app.catalog.scenario(scenario_id)
    persona = app.catalog.persona(scenario.persona)
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


def start(
    app: TrainerApp, user: User, key: str, mode: str = "training", seed: int | None = None
) -> SessionView:
    if mode not in MODES:
        raise SessionError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    picked = option(app, user, key)
    view = app.sessions.start(picked.scenario_id, seed=seed)
    app.store.add_session(
        view.id,
        user.name,
        scenario_id=picked.scenario_id,
        mode=mode,
        assignment_id=picked.assignment.id if picked.assignment else None,
        pass_mark=picked.pass_mark,
        title=picked.title,
    )
    return view


def _own_live(app: TrainerApp, user: User, session_id: str) -> SessionRow:
    """Playing is for the owner only (a manager may read a rep's session, never speak in it)."""
    row = require_session(app.store, user, session_id)
    if row.username != user.name or row.source != "practice":
        raise AccessDenied("No such session, or it is not yours to open.")
    return row


def _playable(app: TrainerApp, user: User, session_id: str) -> SessionRow:
    """The owner's session, if it can still take a turn."""
    row = _own_live(app, user, session_id)
    if row.ended:
        raise SessionError("This session has ended. Start a new one, or rewind in training mode.")
    return row


def playable_view(app: TrainerApp, user: User, session_id: str) -> SessionView:
    """The session as it stands, if the rep may send a turn in it (checked before any output)."""
    _playable(app, user, session_id)
    return app.sessions.view(session_id)


def _unfinished(app: TrainerApp, row: SessionRow, view: SessionView | None = None) -> Unfinished:
    """The session's progress from its newest checkpoint (written by its last turn, or its start)."""
    snapshot = app.sessions.graph.get_state({"configurable": {"thread_id": row.id}})
    turns = snapshot.values.get("turns", [])
    rep_turns = sum(1 for t in turns if t["speaker"] == "trainee")
    return Unfinished(row, snapshot.created_at or row.started_at, rep_turns, view)


def unfinished(app: TrainerApp, user: User) -> list[Unfinished]:
    """The rep's sessions that a reload, a restart or another app instance left open, last played first."""
    items = [_unfinished(app, row) for row in app.store.unfinished_sessions(user.name)]
    return sorted(items, key=lambda item: item.last_played, reverse=True)


def resume(app: TrainerApp, user: User, session_id: str) -> Unfinished:
    """Continue one of them as it was left: the owner only, and only while it can take a turn."""
    row = _playable(app, user, session_id)
    return _unfinished(app, row, app.sessions.view(session_id))


MAX_MESSAGE_CHARS = 4_000  # one rep turn: a long paragraph is under 1,000 characters


def check_message(text: str) -> None:
    """Refuse a rep turn over MAX_MESSAGE_CHARS, before anything is played or stored."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise SessionError(
            f"Your message is {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}."
            " Shorten it and send again."
        )


def send(
    app: TrainerApp,
    user: User,
    session_id: str,
    text: str,
    on_token: Callable[[str], None] | None = None,
) -> SessionView:
    """One rep turn; a backend failure raises and leaves the session as it was, ready to resend."""
    check_message(text)
    row = _playable(app, user, session_id)
    if app.streams and on_token is not None:
        view = app.sessions.send(session_id, text, on_token=on_token)  # type: ignore[call-arg]
    else:
        view = app.sessions.send(session_id, text)
    if view.ended:
        _finish(app, row, view)
    return view


def _finish(app: TrainerApp, row: SessionRow, view: SessionView) -> Scorecard:
    scenario = app.catalog.scenario(view.scenario_id)
    card = scorecard_of(view, app.catalog)
    pass_mark = row.pass_mark if row.pass_mark is not None else scenario.pass_mark
    card = card.model_copy(
        update={"id": view.id, "pass_mark": pass_mark, "passed": card.overall >= pass_mark}
    )
    app.store.finish_session(row.id, card, view.transcript_json())
    return card


def end(app: TrainerApp, user: User, session_id: str) -> Scorecard:
    """The rep ends the session: grade the path taken so far (once; later calls return the same card)."""
    row = _own_live(app, user, session_id)
    if row.ended:
        card = app.store.scorecard(session_id)
        assert card is not None
        return card
    view = app.sessions.view(session_id)
    if not any(t.speaker == "trainee" for t in view.turns):
        raise SessionError("Say something first: there is nothing to score yet.")
    return _finish(app, row, view)


def view(app: TrainerApp, user: User, session_id: str) -> SessionView:
    _own_live(app, user, session_id)
    return app.sessions.view(session_id)


def rewind_points(
    app: TrainerApp, user: User, session_id: str, view: SessionView | None = None
) -> list[tuple[int, str]]:
    """(trainee turns kept, the rep line that would be replaced) for every earlier rep turn.

    Pass the view just read for this user, to save reading the session again.
    """
    if view is None or view.id != session_id:
        _own_live(app, user, session_id)
        view = app.sessions.view(session_id)
    rep_lines = [t.text for t in view.turns if t.speaker == "trainee"]
    return [(n, line) for n, line in enumerate(rep_lines)]


def rewind(app: TrainerApp, user: User, session_id: str, keep_turns: int) -> SessionView:
    """Back to just after rep turn `keep_turns` (0 = the opening); training mode only."""
    row = _own_live(app, user, session_id)
    if row.mode != "training":
        raise SessionError("Rewind is for training mode; an assessment counts every turn.")
    view = app.sessions.rewind(session_id, int(keep_turns))
    if row.ended:
        app.store.reopen_session(session_id)
    return view


# ---------------------------------------------------------------- history, transcripts, uploads


def my_sessions(app: TrainerApp, user: User) -> list[SessionRow]:
    return app.store.sessions_of([user.name])[::-1]


def open_session(app: TrainerApp, user: User, session_id: str) -> Opened:
    row = require_session(app.store, user, session_id)
    transcript = app.store.transcript(session_id)
    view = None
    if transcript is None and row.source == "practice":
        view = app.sessions.view(session_id)
        transcript = view.transcript_json()
    return Opened(
        row=row,
        transcript=transcript or {"id": session_id, "turns": []},
        scorecard=app.store.scorecard(session_id),
        comments=app.store.comments(session_id),
        view=view,
    )


def export(app: TrainerApp, user: User, session_id: str, fmt: str) -> tuple[str, str]:
    """(file name, text) of a transcript in Markdown or the INTERFACES.md JSON format."""
    opened = open_session(app, user, session_id)
    if fmt == "json":
        data = {k: opened.transcript.get(k) for k in ("id", "scenario", "turns")}
        return f"transcript-{session_id}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return f"transcript-{session_id}.md", transcript_markdown(opened, persona_name(app, opened.row))


def persona_name(app: TrainerApp, row: SessionRow) -> str:
    if row.scenario_id and row.scenario_id in app.catalog.scenarios:
        return app.catalog.persona(app.catalog.scenario(row.scenario_id).persona).name
    return "Customer"


def upload(
    app: TrainerApp, user: User, text: str, filename: str = "upload", rep: str | None = None
) -> tuple[SessionRow, Scorecard]:
    """Grade a real call's transcript (JSON, `Rep:` / `Customer:` text, or named speakers with `rep`
    naming the rep) and keep it in the history."""
    transcripts = parse_transcripts(text, filename, rep)
    if len(transcripts) != 1:
        raise SessionError(f"{filename}: one transcript per upload, please (found {len(transcripts)})")
    transcript: Transcript = transcripts[0]
    if not any(t.speaker == "trainee" for t in transcript.turns):
        raise SessionError(f"{filename}: no rep turns found (prefix them with 'Rep:')")
    scenario = app.catalog.scenarios.get(transcript.scenario or "")
    card = grade_transcript(transcript, scenario, rubrics=app.catalog.rubrics)
    session_id = "up-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[-12:]
    title = f"Uploaded call: {filename.rsplit('/', 1)[-1]}"
    row = app.store.add_session(
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
    app.store.finish_session(session_id, card, data)
    return row, card
