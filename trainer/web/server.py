"""The Gradio web app: reps practise and review, managers assign and watch their team.

Every handler resolves the signed-in user from the request and calls `TrainerApp`, which checks access
on the server; the UI only decides what to show. `serve()` starts it offline, with login whenever users
exist or the app listens beyond localhost, and with enough queue concurrency for a team chatting at once.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home
# Gradio summarises its event log with pandas after every event by default (quadratic under load, and only
# for its monitoring page, which this app does not use): summarise rarely and keep a short log.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from trainer.catalog import Catalog, CatalogError
from trainer.grader.classifier import load_model
from trainer.grader.scorecard import DIMENSIONS
from trainer.grader.transcripts import REP_HINT, TranscriptError
from trainer.roleplay.session import SessionError, Sessions, SessionView
from trainer.roleplay.voice import Voice, offline_voice
from trainer.team.access import LOCAL_USER, AccessDenied, StoredTokens, check_login
from trainer.team.actions import TrainerApp
from trainer.team.store import Store, StoreError, User
from trainer.web import views

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
USER_ERRORS = (AccessDenied, SessionError, StoreError, TranscriptError, CatalogError)
CONCURRENCY = 128  # events running at once, per event and in total: 50 reps must not queue behind each other
QUEUE_POLL = 0.005  # s between Gradio's queue polls for new events (its 1 ms costs ~8% of a core idle)
STREAM_PACE = 0.02  # seconds between chunks when a finished reply is revealed progressively
STREAM_CHUNKS = 10
STREAM_BATCH = 0.05  # seconds of model tokens gathered into one screen update

CSS = (Path(__file__).parent / "app.css").read_text(encoding="utf-8")
LOGIN_MESSAGE = (
    "<span style='display:flex;align-items:center;gap:12px;margin:4px 0 6px'>"
    "<span style='width:38px;height:38px;border-radius:10px;"
    "background:linear-gradient(135deg,#4f46e5,#0891b2);color:#fff;display:inline-grid;place-items:center;font-size:19px'>◆</span>"
    "<span><b style='font-size:18px;color:#111827'>Discovery Trainer</b><br>"
    "<span style='color:#64748b;font-size:13px'>Sign in with the name and password your manager gave you."
    "</span></span></span>"
)


def theme() -> gr.themes.Base:
    """Indigo on slate with system fonts: nothing is fetched from a font CDN."""
    system = ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        radius_size="md",
        font=system,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    ).set(body_background_fill="#f6f7fb", block_border_width="1px")


def _reveal(token: str) -> Iterator[str]:
    """Small model tokens pass straight through; a whole authored line, which arrives at once, is
    revealed in a few quick steps so every reply reads as it streams."""
    words = token.split(" ")
    if len(words) <= STREAM_CHUNKS:
        yield token
        return
    step = -(-len(words) // STREAM_CHUNKS)
    for n in range(0, len(words), step):
        if n:
            time.sleep(STREAM_PACE)
        yield (" " if n else "") + " ".join(words[n : n + step])


class Web:
    """The Blocks app over one TrainerApp; `local` allows the no-login single user on localhost."""

    def __init__(self, trainer: TrainerApp, local: bool) -> None:
        self.trainer, self.local = trainer, local
        self.files = Path(tempfile.mkdtemp(prefix="trainer-downloads-"))

    # ------------------------------------------------------------ who is asking

    def user(self, request: gr.Request | None) -> User:
        """The signed-in user, or the local user when the app runs without login and has no users."""
        name = getattr(request, "username", None)
        if name == LOCAL_USER.name or (not name and self.local):
            if self.local and self.trainer.store.user_count() == 0:
                return LOCAL_USER
            raise gr.Error("Please sign in: accounts exist now, so reload the page and sign in.")
        if name:
            found = self.trainer.store.user(name)
            if found is None:
                raise gr.Error("Your account no longer exists. Sign out and in again.")
            return found
        raise gr.Error("Please sign in.")

    def _file(self, name: str, text: str) -> str:
        folder = Path(tempfile.mkdtemp(dir=self.files))
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    # ------------------------------------------------------------ page load

    def on_load(self, request: gr.Request):
        user = self.user(request)
        manager = user.is_manager
        signed_in = user is not LOCAL_USER
        who = f"{user.name} · {user.role}" + (f" · team {user.team}" if user.team else "")
        account = (
            f"<span class='who'>{views.esc(who)}</span><a class='signout' href='logout'>Sign out</a>"
            if signed_in
            else "<span class='who'>Local practice · no sign-in needed</span>"
        )
        header = (
            "<div class='brand'><div class='logo'>◆</div><div><div class='brand-name'>Discovery Trainer</div>"
            "<div class='brand-sub'>Practise the questions that open executives up</div></div>"
            f"<div class='account'>{account}</div></div>"
        )
        options = self.trainer.scenario_options(user)
        choices = [(o.label, o.key) for o in options]
        first = choices[0][1] if choices else None
        reps = [u.name for u in self.trainer.team_reps(user)] if manager else []
        scen = [(s.title, s.id) for s in self.trainer.catalog.scenarios.values()]
        return (
            header,
            gr.update(choices=choices, value=first),
            self.preview(first, request),
            gr.update(visible=manager),
            gr.update(visible=manager),
            gr.update(choices=reps, value=[]),
            gr.update(choices=scen, value=scen[0][1] if scen else None),
        )

    def preview(self, key: str | None, request: gr.Request) -> str:
        if not key:
            return views.persona_card_html(None)
        user = self.user(request)
        try:
            option = self.trainer.option(user, key)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        note = ""
        if option.assignment is not None:
            due = f"due {option.assignment.due}" if option.assignment.due else "no due date"
            note = f"Assigned by {option.assignment.created_by} · {due} · pass mark {option.pass_mark}"
        return views.persona_card_html(self.trainer.card(option.scenario_id), note)

    # ------------------------------------------------------------ practise

    def _rewind_choices(
        self, user: User, session_id: str, training: bool, view: SessionView | None = None
    ) -> dict[str, Any]:
        if not training:
            return gr.update(choices=[], value=None, interactive=False)
        points = self.trainer.rewind_points(user, session_id, view)
        choices = [(f"Before your turn {n + 1}: “{line[:60]}”", n) for n, line in points]
        return gr.update(choices=choices, value=None, interactive=bool(choices))

    def _card_name(self, scenario_id: str) -> str:
        return self.trainer.catalog.persona(self.trainer.catalog.scenario(scenario_id).persona).name

    def _downloads(self, user: User, session_id: str):
        md_name, md = self.trainer.export(user, session_id, "md")
        js_name, js = self.trainer.export(user, session_id, "json")
        return (
            gr.update(visible=True),
            gr.update(value=self._file(md_name, md)),
            gr.update(value=self._file(js_name, js)),
        )

    def _finished(self, user: User, session_id: str, scenario_id: str) -> tuple[str, Any, Any, Any]:
        card = self.trainer.store.scorecard(session_id)
        return (views.scorecard_html(card, self._card_name(scenario_id)), *self._downloads(user, session_id))

    def start(self, key: str | None, mode: str, request: gr.Request):
        user = self.user(request)
        if not key:
            raise gr.Error("Pick a scenario first.")
        training = mode != "Assessment"
        try:
            view = self.trainer.start(user, key, "training" if training else "assessment")
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        return (
            view.id,
            views.chat_messages(view, training),
            views.mood_html(view, training),
            "",
            self._rewind_choices(user, view.id, training, view),
            gr.update(value="", interactive=True, placeholder="Ask your first question…"),
            gr.update(visible=False),
            gr.update(interactive=True),
        )

    def send(self, text: str, session_id: str, mode: str, request: gr.Request) -> Iterator[tuple]:
        """Play one turn and stream the reply into the chat; a model failure shows there and can be resent.

        One event per turn: the side panels (mood, scorecard, rewind points, downloads) ride along,
        unchanged while the reply streams (Gradio sends an empty diff for them) and refreshed with
        the final view. A second chained event per turn cost about a fifth of a turn's CPU.
        """
        user = self.user(request)
        training = mode != "Assessment"
        if not session_id:
            raise gr.Error("Start a session first: pick a scenario and press Start.")
        if not (text or "").strip():
            yield gr.skip()
            return
        try:
            before = self.trainer.playable_view(user, session_id)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None  # before any output: the scorecard on screen stays
        history = views.chat_messages(before, training)
        # As they are on screen: plain values, not updates (an update rebuilds the component's config).
        panels = (views.mood_html(before, training), "", None, gr.skip(), None, None)
        mine = {"role": "user", "content": views.esc(text.strip())}
        yield [*history, mine, {"role": "assistant", "content": "…"}], "", *panels
        try:
            view = None
            so_far = ""
            for item in self._play(user, session_id, text):
                if isinstance(item, str):
                    so_far += item
                    yield [*history, mine, {"role": "assistant", "content": so_far}], gr.skip(), *panels
                else:
                    view = item
        except USER_ERRORS as exc:
            yield history, text, *panels
            raise gr.Error(str(exc)) from None
        except Exception as exc:  # the model backend failed: say so, keep the text to resend
            yield [*history, mine, views.error_message(exc)], text, *panels
            return
        assert view is not None
        yield views.chat_messages(view, training), *self._after_turn(user, view, training)

    def _after_turn(self, user: User, view: SessionView, training: bool) -> tuple:
        """The panels after a turn: message box, mood, rewind points, and, once the persona has ended
        the meeting, the scorecard and the downloads."""
        rewind = self._rewind_choices(user, view.id, training, view)
        mood = views.mood_html(view, training)
        if not view.ended:  # the session was live when sent; only the persona can have ended it
            follow = gr.update(placeholder="Ask your next question…")
            return follow, mood, "", rewind, gr.skip(), None, None
        try:
            card, row, md, js = self._finished(user, view.id, view.scenario_id)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        ended = gr.update(value="", interactive=False, placeholder="Session ended: see your scorecard below.")
        return ended, mood, card, rewind, row, md, js

    def _play(self, user: User, session_id: str, text: str) -> Iterator[str | SessionView]:
        """Yield the reply's pieces as they are spoken, then the session view; errors are re-raised here."""
        if not self.trainer.streams:
            view = self.trainer.send(user, session_id, text)
            yield from _reveal(view.last_reply)
            yield view
            return
        tokens: queue.Queue[str | None] = queue.Queue()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["view"] = self.trainer.send(user, session_id, text, on_token=tokens.put)
            except BaseException as exc:
                result["error"] = exc
            finally:
                tokens.put(None)

        threading.Thread(target=work, daemon=True).start()
        done = False
        while not done:
            batch = [tokens.get()]
            # Gather what arrives within STREAM_BATCH of the batch's first token (one screen update per
            # batch, not per token), but stop waiting the moment the reply is complete: a reply that
            # arrives at once then goes out with the final view in a single update.
            until = time.monotonic() + STREAM_BATCH
            while batch[-1] is not None:
                left = until - time.monotonic()
                try:
                    batch.append(tokens.get(timeout=left) if left > 0 else tokens.get_nowait())
                except queue.Empty:
                    break
            done = batch[-1] is None
            pieces = [t for t in batch if t is not None]
            if len(pieces) == 1:
                yield from _reveal(pieces[0])  # a whole authored line: reveal it in steps
            elif pieces and not done:  # when the reply is complete, the final view shows it anyway
                yield "".join(pieces)
        if "error" in result:
            raise result["error"]
        yield result["view"]

    def end(self, session_id: str, mode: str, request: gr.Request):
        user = self.user(request)
        if not session_id:
            raise gr.Error("Start a session first.")
        training = mode != "Assessment"
        try:
            self.trainer.end(user, session_id)
            view = self.trainer.view(user, session_id)
            card, row, md, js = self._finished(user, session_id, view.scenario_id)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        return (
            views.chat_messages(view, training),
            gr.update(value="", interactive=False, placeholder="Session ended: see your scorecard below."),
            views.mood_html(view, training) if not view.ended else views.mood_html(None, training),
            card,
            self._rewind_choices(user, session_id, training, view),
            row,
            md,
            js,
        )

    def rewind(self, keep: int | None, session_id: str, mode: str, request: gr.Request):
        user = self.user(request)
        if not session_id:
            raise gr.Error("Start a session first.")
        if keep is None:
            raise gr.Error("Choose the turn to go back to.")
        training = mode != "Assessment"
        try:
            view = self.trainer.rewind(user, session_id, int(keep))
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        return (
            views.chat_messages(view, training),
            gr.update(value="", interactive=True, placeholder="Try a different question from here…"),
            views.mood_html(view, training),
            "",
            self._rewind_choices(user, session_id, training, view),
            gr.update(visible=False),
            gr.skip(),
            gr.skip(),
        )

    # ------------------------------------------------------------ history

    def history(self, request: gr.Request):
        user = self.user(request)
        rows = self.trainer.my_sessions(user)
        scored = [r for r in rows if r.overall is not None]
        counts = self.trainer.store.comment_counts([r.id for r in rows])
        passed = sum(1 for r in scored if r.passed)
        stats = views.stats_html(
            [
                ("sessions", str(len(rows))),
                ("scored", str(len(scored))),
                ("passed", str(passed)),
                ("best score", f"{max((r.overall for r in scored), default=0):.0f}" if scored else "–"),
            ]
        )
        trend = views.trend_svg(
            {"": [(r.ended_at or r.started_at, r.overall) for r in scored[::-1]]},
            pass_mark=70,
            title="Your overall score, session by session",
        )
        choices = [(views.session_label(r), r.id) for r in rows]
        return (
            stats,
            trend,
            views.sessions_table_html(rows, counts),
            gr.update(choices=choices, value=None),
        )

    def open_session(self, session_id: str | None, request: gr.Request):
        user = self.user(request)
        if not session_id:
            return "", "", "", gr.update(visible=False), gr.skip(), gr.skip()
        try:
            opened = self.trainer.open(user, session_id)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        name = self.trainer.persona_name(opened.row)
        row, md, js = self._downloads(user, session_id)
        return (
            views.scorecard_html(opened.scorecard, name)
            or "<div class='card empty'>This session is still open: finish it on the Practise tab.</div>",
            views.comments_html(opened.comments),
            views.transcript_html(
                opened.transcript, name, "You" if opened.row.username == user.name else opened.row.username
            ),
            row,
            md,
            js,
        )

    def upload(self, file: str | None, pasted: str, rep: str, request: gr.Request):
        user = self.user(request)
        if file:
            text, name = Path(file).read_text(encoding="utf-8", errors="replace"), Path(file).name
        elif (pasted or "").strip():
            text, name = pasted, "pasted transcript"
        else:
            raise gr.Error("Upload a transcript file or paste one first.")
        try:
            _, card = self.trainer.upload(user, text, name, rep=rep)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc).replace(REP_HINT, "in “The rep's name in the transcript”")) from None
        return views.scorecard_html(card, "the customer")

    # ------------------------------------------------------------ manager

    def dashboard(self, request: gr.Request):
        user = self.user(request)
        try:
            board = self.trainer.dashboard(user)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        states = [r.status for r in board.status]
        done = sum(s == "passed" for s in states)
        stats = views.stats_html(
            [
                ("reps", str(len(board.reps))),
                ("assignments passed", f"{done} / {len(states)}" if states else "–"),
                ("not started", str(states.count("not started"))),
                ("stuck or overdue", str(states.count("stuck") + states.count("overdue"))),
            ]
        )
        trend = views.trend_svg(board.trends, pass_mark=70, title="Overall score per rep, attempt by attempt")
        sessions = self.trainer.team_sessions(user)
        choices = [(views.session_label(r, with_user=True), r.id) for r in sessions]
        return (
            stats,
            views.status_html(board.status),
            views.scores_html(board.scores),
            trend,
            views.heatmap_html(board.dimensions, DIMENSIONS),
            gr.update(choices=choices, value=None),
        )

    def export_csv(self, request: gr.Request) -> str:
        user = self.user(request)
        try:
            text = self.trainer.export_csv(user)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        return self._file(f"team-{user.team or 'scores'}.csv", text)

    def assign(
        self, scenario_id: str, reps: list[str], whole: bool, due: str, mark: float, request: gr.Request
    ):
        user = self.user(request)
        try:
            made = self.trainer.assign(user, scenario_id, reps, whole, due, int(mark))
            status = self.trainer.status(user)
        except (*USER_ERRORS, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        who = f"team {user.team}" if whole else ", ".join(reps)
        title = self.trainer.catalog.scenario(scenario_id).title
        note = (
            f"<div class='notice'>Assigned <b>{views.esc(title)}</b> to {views.esc(who)} "
            f"({len(made)} assignment(s)).</div>"
        )
        return note, views.status_html(status)

    def assignments(self, request: gr.Request) -> str:
        user = self.user(request)
        try:
            return views.status_html(self.trainer.status(user))
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None

    def comment(self, session_id: str | None, text: str, request: gr.Request):
        user = self.user(request)
        if not session_id:
            raise gr.Error("Open a session first.")
        try:
            self.trainer.comment(user, session_id, text)
            opened = self.trainer.open(user, session_id)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from None
        return "", views.comments_html(opened.comments)

    # ------------------------------------------------------------ layout

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="Discovery Trainer") as demo:
            header = gr.HTML(elem_id="header")
            with gr.Tabs(elem_id="tabs"):
                with gr.Tab("Practise", id="practise", elem_id="tab-practise"):
                    session_id = gr.State("")
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=5, min_width=320, elem_classes="side"):
                            scenario = gr.Dropdown(label="Scenario", choices=[], elem_id="scenario")
                            mode = gr.Radio(
                                ["Training", "Assessment"],
                                value="Training",
                                label="Mode",
                                info="Training: live feedback and rewind. Assessment: neither.",
                                elem_id="mode",
                            )
                            start = gr.Button("Start session", variant="primary", elem_id="start")
                            card = gr.HTML(views.persona_card_html(None), elem_id="persona-card")
                        with gr.Column(scale=7, min_width=420):
                            mood = gr.HTML(elem_id="mood")
                            chat = gr.Chatbot(
                                show_label=False,
                                height=470,
                                elem_id="chat",
                                placeholder="Start a session and the executive will open the meeting.",
                                buttons=[],
                                feedback_options=None,
                                layout="bubble",
                            )
                            with gr.Row(elem_classes="composer"):
                                message = gr.Textbox(
                                    show_label=False,
                                    placeholder="Start a session first",
                                    scale=8,
                                    lines=1,
                                    max_lines=4,
                                    elem_id="message",
                                    autofocus=True,
                                )
                                send = gr.Button(
                                    "Send", variant="primary", scale=1, min_width=90, elem_id="send"
                                )
                            with gr.Row(elem_classes="session-tools"):
                                rewind_to = gr.Dropdown(
                                    label="Rewind",
                                    choices=[],
                                    scale=5,
                                    interactive=False,
                                    elem_id="rewind-to",
                                    info="Go back and ask something different from there.",
                                )
                                rewind = gr.Button("Rewind", scale=1, min_width=90, elem_id="rewind")
                                end = gr.Button(
                                    "End & score", variant="stop", scale=1, min_width=150, elem_id="end"
                                )
                            scorecard = gr.HTML(elem_id="practice-scorecard")
                            with gr.Row(visible=False) as practice_files:
                                md_file = gr.DownloadButton("Download Markdown", elem_id="practice-md")
                                js_file = gr.DownloadButton("Download JSON", elem_id="practice-json")
                with gr.Tab("My sessions", id="history", elem_id="tab-history") as history_tab:
                    history_stats = gr.HTML()
                    with gr.Row():
                        with gr.Column(scale=5):
                            trend = gr.HTML()
                        with gr.Column(scale=6):
                            table = gr.HTML()
                    pick = gr.Dropdown(
                        label="Open a session", choices=[], allow_custom_value=True, elem_id="history-pick"
                    )
                    with gr.Row():
                        with gr.Column(scale=6):
                            opened_card = gr.HTML()
                        with gr.Column(scale=5):
                            opened_comments = gr.HTML(elem_id="history-comments")
                            opened_transcript = gr.HTML()
                            with gr.Row(visible=False) as history_files:
                                h_md = gr.DownloadButton("Download Markdown")
                                h_js = gr.DownloadButton("Download JSON")
                with gr.Tab("Grade a real call", id="upload", elem_id="tab-upload"):
                    gr.Markdown(
                        "Upload the transcript of a real call, as JSON "
                        '(`{"turns": [{"speaker": "trainee", "text": "..."}]}`) '
                        "or plain text with `Rep:` / `Customer:` prefixes, and get the same scorecard. "
                        "A call export with people's names (`Dana Smith: …`, Zoom/Teams `.vtt`) works too: "
                        "say which name is the rep."
                    )
                    with gr.Row():
                        with gr.Column(scale=4):
                            upload_file = gr.File(
                                label="Transcript file",
                                file_types=[".json", ".txt", ".md", ".vtt"],
                                type="filepath",
                            )
                            pasted = gr.Textbox(
                                label="…or paste it",
                                lines=8,
                                placeholder="Rep: Thanks for making time…\nCustomer: …",
                            )
                            rep_name = gr.Textbox(
                                label="The rep's name in the transcript",
                                placeholder="Only when speakers are named, e.g. Alex Kim",
                                elem_id="upload-rep",
                            )
                            grade = gr.Button("Score this call", variant="primary")
                        with gr.Column(scale=6):
                            upload_card = gr.HTML()
                with gr.Tab("Team", id="team", visible=False, elem_id="tab-team") as team_tab:
                    team_stats = gr.HTML()
                    gr.Markdown("#### Assignments")
                    team_status = gr.HTML(elem_id="team-status")
                    with gr.Row():
                        with gr.Column(scale=5):
                            team_trend = gr.HTML()
                        with gr.Column(scale=6):
                            gr.Markdown("#### Best and latest score per rep and scenario")
                            team_scores = gr.HTML(elem_id="team-scores")
                    gr.Markdown("#### Dimensions per rep (weakest outlined)")
                    team_heat = gr.HTML(elem_id="team-heatmap")
                    with gr.Row():
                        refresh = gr.Button("Refresh", scale=0, min_width=120)
                        csv_btn = gr.DownloadButton(
                            "Export CSV", scale=0, min_width=140, elem_id="export-csv"
                        )
                    gr.Markdown("#### Review a session")
                    review_pick = gr.Dropdown(
                        label="Team session", choices=[], allow_custom_value=True, elem_id="review-pick"
                    )
                    with gr.Row():
                        with gr.Column(scale=6):
                            review_card = gr.HTML()
                        with gr.Column(scale=5):
                            review_comments = gr.HTML()
                            comment_box = gr.Textbox(label="Comment for the rep", lines=2, elem_id="comment")
                            post = gr.Button("Post comment", variant="primary")
                            review_transcript = gr.HTML()
                            with gr.Row(visible=False) as review_files:
                                r_md = gr.DownloadButton("Download Markdown")
                                r_js = gr.DownloadButton("Download JSON")
                with (
                    gr.Tab("Assign", id="assign", visible=False, elem_id="tab-assign") as assign_tab,
                    gr.Row(),
                ):
                    with gr.Column(scale=4):
                        a_scenario = gr.Dropdown(label="Scenario", choices=[], elem_id="assign-scenario")
                        a_reps = gr.Dropdown(
                            label="Reps", choices=[], multiselect=True, elem_id="assign-reps"
                        )
                        a_team = gr.Checkbox(label="The whole team (including future members)")
                        a_due = gr.Textbox(label="Due date", placeholder="YYYY-MM-DD", elem_id="assign-due")
                        a_mark = gr.Slider(0, 100, value=70, step=5, label="Pass mark")
                        a_go = gr.Button("Assign", variant="primary", elem_id="assign-go")
                    with gr.Column(scale=7):
                        a_note = gr.HTML()
                        a_status = gr.HTML()

            play_outputs = [chat, message, mood, scorecard, rewind_to, practice_files, md_file, js_file]
            demo.load(
                self.on_load,
                outputs=[header, scenario, card, team_tab, assign_tab, a_reps, a_scenario],
                api_name="load",
            )
            scenario.change(self.preview, [scenario], [card], api_name="preview")
            start.click(
                self.start,
                [scenario, mode],
                [session_id, chat, mood, scorecard, rewind_to, message, practice_files, send],
                api_name="start",
            )
            gr.on(
                [send.click, message.submit],
                self.send,
                [message, session_id, mode],
                play_outputs,
                api_name="send",
                show_progress_on=[chat],  # the side panels ride along: no spinners over them
            )
            end.click(self.end, [session_id, mode], play_outputs, api_name="end")
            rewind.click(self.rewind, [rewind_to, session_id, mode], play_outputs, api_name="rewind")
            history_tab.select(self.history, None, [history_stats, trend, table, pick], api_name="history")
            pick.input(
                self.open_session,
                [pick],
                [opened_card, opened_comments, opened_transcript, history_files, h_md, h_js],
                api_name="open_session",
            )
            grade.click(self.upload, [upload_file, pasted, rep_name], [upload_card], api_name="upload")
            board_outputs = [team_stats, team_status, team_scores, team_trend, team_heat, review_pick]
            team_tab.select(self.dashboard, None, board_outputs, api_name="dashboard")
            refresh.click(self.dashboard, None, board_outputs, api_name=False)
            csv_btn.click(self.export_csv, None, [csv_btn], api_name="export_csv")
            review_pick.input(
                self.open_session,
                [review_pick],
                [review_card, review_comments, review_transcript, review_files, r_md, r_js],
                api_name="review_session",
            )
            post.click(
                self.comment, [review_pick, comment_box], [comment_box, review_comments], api_name="comment"
            )
            assign_tab.select(self.assignments, None, [a_status], api_name="assignments")
            a_go.click(
                self.assign,
                [a_scenario, a_reps, a_team, a_due, a_mark],
                [a_note, a_status],
                api_name="assign",
            )
        return demo


# ---------------------------------------------------------------- serving


def needs_login(host: str, users: int) -> bool:
    """Sign-in is required when anyone but this machine can connect, or as soon as users exist."""
    return users > 0 or host not in LOCAL_HOSTS


def create(
    catalog: Catalog,
    store: Store,
    checkpointer: Any,
    voice: Voice = offline_voice,
    local: bool = True,
) -> tuple[Web, gr.Blocks]:
    load_model()  # the classifier's weights, read now rather than during the first rep's first turn
    trainer = TrainerApp(catalog, store, Sessions(catalog, voice=voice, checkpointer=checkpointer))
    web = Web(trainer, local=local)
    demo = web.build()
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return web, demo


def launch(
    catalog: Catalog,
    store: Store,
    checkpointer: Any,
    host: str = "127.0.0.1",
    port: int | None = None,
    voice: Voice = offline_voice,
    quiet: bool = True,
) -> tuple[gr.Blocks, str]:
    """Start the server without blocking; returns the app and its URL."""
    local = host in LOCAL_HOSTS
    if needs_login(host, 0) and store.user_count() == 0:
        raise StoreError(
            f"--host {host}: the app would be reachable from other machines and no users exist; "
            "add one with `trainer users add NAME --role manager --team T` first"
        )
    _, demo = create(catalog, store, checkpointer, voice=voice, local=local)
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=quiet,
        # Always behind the login check: on localhost it lets everyone in while no accounts exist
        # (StoredTokens' open_when_empty), and asks for sign-in from the moment the first is added.
        auth=lambda username, password: check_login(store, username, password),
        auth_message=LOGIN_MESSAGE,
        max_threads=CONCURRENCY,
        show_error=False,
        footer_links=[],
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
    demo.server_app.tokens = StoredTokens(store, open_when_empty=local)  # type: ignore[union-attr]
    if hasattr(demo._queue, "sleep_when_free"):  # a private knob of Gradio's queue; skipped if it goes
        demo._queue.sleep_when_free = QUEUE_POLL
    url = demo.local_url or f"http://{host}:{port}/"
    return demo, url
