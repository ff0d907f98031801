"""The Practise tab: pick a scenario, talk to the executive with the reply streaming in, rewind in
training mode, end and get the scorecard with its downloads, or continue a session left unfinished."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from trainer.roleplay.session import SessionView
from trainer.team.rep_actions import Unfinished, check_message
from trainer.team.store import SessionRow, User
from trainer.web import views
from trainer.web.context import USER_ERRORS, WebContext
from trainer.web.streaming import play

if TYPE_CHECKING:
    from trainer.web.server import Web


def preview(web: WebContext, key: str | None, request: gr.Request) -> str:
    if not key:
        return views.persona_card_html(None)
    user = web.user(request)
    try:
        option = web.trainer.option(user, key)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    note = ""
    if option.assignment is not None:
        due = f"due {option.assignment.due}" if option.assignment.due else "no due date"
        note = f"Assigned by {option.assignment.created_by} · {due} · pass mark {option.pass_mark}"
    return views.persona_card_html(web.trainer.card(option.scenario_id), note)


def _rewind_choices(
    web: WebContext, user: User, session_id: str, training: bool, view: SessionView | None = None
) -> dict[str, Any]:
    if not training:
        return gr.update(choices=[], value=None, interactive=False)
    points = web.trainer.rewind_points(user, session_id, view)
    choices = [(f"Before your turn {n + 1}: “{line[:60]}”", n) for n, line in points]
    return gr.update(choices=choices, value=None, interactive=bool(choices))


def _card_name(web: WebContext, scenario_id: str) -> str:
    return web.trainer.catalog.persona(web.trainer.catalog.scenario(scenario_id).persona).name


def _finished(web: WebContext, user: User, session_id: str, scenario_id: str) -> tuple[str, Any, Any, Any]:
    card = web.trainer.store.scorecard(session_id)
    return (views.scorecard_html(card, _card_name(web, scenario_id)), *web.downloads(user, session_id))


def _live(web: WebContext, user: User, view: SessionView, training: bool, placeholder: str) -> tuple:
    """A session on screen, ready for the rep's next turn: the session id state and the panels."""
    return (
        view.id,
        views.chat_messages(view, training),
        views.mood_html(view, training),
        "",
        _rewind_choices(web, user, view.id, training, view),
        gr.update(value="", interactive=True, placeholder=placeholder),
        gr.update(visible=False),
        gr.update(interactive=True),
    )


def start(web: WebContext, key: str | None, mode: str, request: gr.Request):
    user = web.user(request)
    if not key:
        raise gr.Error("Pick a scenario first.")
    training = mode != "Assessment"
    try:
        view = web.trainer.start(user, key, "training" if training else "assessment")
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    return (*_live(web, user, view, training, "Ask your first question…"), "")


def send(web: WebContext, text: str, session_id: str, mode: str, request: gr.Request) -> Iterator[tuple]:
    """Play one turn and stream the reply into the chat; a model failure shows there and can be resent.

    One event per turn: the side panels (mood, scorecard, rewind points, downloads) ride along,
    unchanged while the reply streams (Gradio sends an empty diff for them) and refreshed with
    the final view. A second chained event per turn cost about a fifth of a turn's CPU.
    """
    user = web.user(request)
    training = mode != "Assessment"
    if not session_id:
        raise gr.Error("Start a session first: pick a scenario and press Start.")
    if not (text or "").strip():
        yield gr.skip()
        return
    try:
        check_message(text)  # too long: refused here, the text stays in the box to shorten
        before = web.trainer.playable_view(user, session_id)
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
        for item in play(web.trainer, user, session_id, text):
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
    yield views.chat_messages(view, training), *_after_turn(web, user, view, training)


def _after_turn(web: WebContext, user: User, view: SessionView, training: bool) -> tuple:
    """The panels after a turn: message box, mood, rewind points, and, once the persona has ended
    the meeting, the scorecard and the downloads."""
    rewind = _rewind_choices(web, user, view.id, training, view)
    mood = views.mood_html(view, training)
    if not view.ended:  # the session was live when sent; only the persona can have ended it
        follow = gr.update(placeholder="Ask your next question…")
        return follow, mood, "", rewind, gr.skip(), None, None
    try:
        card, row, md, js = _finished(web, user, view.id, view.scenario_id)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    ended = gr.update(value="", interactive=False, placeholder="Session ended: see your scorecard below.")
    return ended, mood, card, rewind, row, md, js


def end(web: WebContext, session_id: str, mode: str, request: gr.Request):
    user = web.user(request)
    if not session_id:
        raise gr.Error("Start a session first.")
    training = mode != "Assessment"
    try:
        web.trainer.end(user, session_id)
        view = web.trainer.view(user, session_id)
        card, row, md, js = _finished(web, user, session_id, view.scenario_id)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    return (
        views.chat_messages(view, training),
        gr.update(value="", interactive=False, placeholder="Session ended: see your scorecard below."),
        views.mood_html(view, training) if not view.ended else views.mood_html(None, training),
        card,
        _rewind_choices(web, user, session_id, training, view),
        row,
        md,
        js,
    )


def rewind(web: WebContext, keep: int | None, session_id: str, mode: str, request: gr.Request):
    user = web.user(request)
    if not session_id:
        raise gr.Error("Start a session first.")
    if keep is None:
        raise gr.Error("Choose the turn to go back to.")
    training = mode != "Assessment"
    try:
        view = web.trainer.rewind(user, session_id, int(keep))
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    return (
        views.chat_messages(view, training),
        gr.update(value="", interactive=True, placeholder="Try a different question from here…"),
        views.mood_html(view, training),
        "",
        _rewind_choices(web, user, session_id, training, view),
        gr.update(visible=False),
        gr.skip(),
        gr.skip(),
    )


def unfinished(web: WebContext, request: gr.Request) -> tuple[Any, Any]:
    """The Continue picker: the rep's unfinished sessions, last played first. The only one is preselected,
    so the page load continues it; with several, the rep picks."""
    items = web.trainer.unfinished(web.user(request))
    choices = [(item.label, item.row.id) for item in items]
    info = (
        "Your session in progress: Continue picks it up where you left off."
        if len(items) == 1
        else f"{len(items)} sessions in progress: pick one to carry on where you left off."
    )
    only = choices[0][1] if len(choices) == 1 else None
    return gr.update(visible=bool(items)), gr.update(choices=choices, value=only, info=info)


def _option_key(web: WebContext, user: User, row: SessionRow) -> str:
    """The scenario picker's entry the session was started from (its assignment, while it is still set)."""
    keys = {o.key for o in web.trainer.scenario_options(user)}
    assigned = f"a:{row.assignment_id}"
    return assigned if row.assignment_id and assigned in keys else f"s:{row.scenario_id}"


def _resumed_note(item: Unfinished) -> str:
    return (
        f"<div class='note resumed'>Continuing your unfinished session: <b>{views.esc(item.label)}</b>."
        " <b>Send</b> carries on from here; <b>Start session</b> begins a new one.</div>"
    )


def resume(web: WebContext, session_id: str | None, request: gr.Request):
    """Continue an unfinished session of the rep's as it was left (chat, persona card, mood, rewind points),
    whichever app instance played it before: all of it is in the store and the checkpointer."""
    if not session_id:
        return gr.skip()  # nothing picked (the page load with no single session to continue)
    user = web.user(request)
    try:
        item = web.trainer.resume(user, session_id)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    view, training = item.view, item.row.mode != "assessment"
    assert view is not None
    key = _option_key(web, user, item.row)
    return (
        *_live(web, user, view, training, "Ask your next question…"),
        "Training" if training else "Assessment",
        gr.update(value=key),
        preview(web, key, request),
        _resumed_note(item),
        gr.update(value=view.id),  # the picker names the session on screen (also when My sessions sent it)
    )


@dataclass(frozen=True)
class PractiseTab:
    """The components that events outside the tab fill: the page load (the scenario picker and card, the
    Continue picker) and My sessions' Continue (every output of `resume`)."""

    scenario: gr.Dropdown
    card: gr.HTML
    picker: list[Any]  # what `unfinished` fills
    resume_pick: gr.Dropdown
    resumed: list[Any]  # what `resume` fills


def build(web: Web) -> PractiseTab:
    """Lay out the tab and wire its events; returns what the page load and My sessions fill."""
    with gr.Tab("Practise", id="practise", elem_id="tab-practise") as tab:
        session_id = gr.State("")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320, elem_classes="side"):
                with gr.Group(visible=False, elem_id="resume-box") as resume_box:
                    resume_pick = gr.Dropdown(  # any id is taken here: the server decides whose it is
                        label="Continue an unfinished session",
                        choices=[],
                        allow_custom_value=True,
                        elem_id="resume-pick",
                    )
                    resume_btn = gr.Button("Continue", elem_id="resume")
                scenario = gr.Dropdown(label="Scenario", choices=[], elem_id="scenario")
                mode = gr.Radio(
                    ["Training", "Assessment"],
                    value="Training",
                    label="Mode",
                    info="Training: live feedback and rewind. Assessment: neither.",
                    elem_id="mode",
                )
                start_btn = gr.Button("Start session", variant="primary", elem_id="start")
                card = gr.HTML(views.persona_card_html(None), elem_id="persona-card")
            with gr.Column(scale=7, min_width=420):
                note = gr.HTML(elem_id="practice-note")
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
                    send_btn = gr.Button("Send", variant="primary", scale=1, min_width=90, elem_id="send")
                with gr.Row(elem_classes="session-tools"):
                    rewind_to = gr.Dropdown(
                        label="Rewind",
                        choices=[],
                        scale=5,
                        interactive=False,
                        elem_id="rewind-to",
                        info="Go back and ask something different from there.",
                    )
                    rewind_btn = gr.Button("Rewind", scale=1, min_width=90, elem_id="rewind")
                    end_btn = gr.Button("End & score", variant="stop", scale=1, min_width=150, elem_id="end")
                scorecard = gr.HTML(elem_id="practice-scorecard")
                with gr.Row(visible=False) as practice_files:
                    md_file = gr.DownloadButton("Download Markdown", elem_id="practice-md")
                    js_file = gr.DownloadButton("Download JSON", elem_id="practice-json")

    play_outputs = [chat, message, mood, scorecard, rewind_to, practice_files, md_file, js_file]
    started = [session_id, chat, mood, scorecard, rewind_to, message, practice_files, send_btn]
    picker = [resume_box, resume_pick]
    resumed = [*started, mode, scenario, card, note, resume_pick]
    # The rep's pick only: the page load and a continued session set the card along with the picker.
    scenario.input(web.preview, [scenario], [card], api_name="preview")
    start_btn.click(web.start, [scenario, mode], [*started, note], api_name="start").success(
        web.unfinished, None, picker, api_name=False
    )
    gr.on(
        [send_btn.click, message.submit],
        web.send,
        [message, session_id, mode],
        play_outputs,
        api_name="send",
        show_progress_on=[chat],  # the side panels ride along: no spinners over them
    )
    end_btn.click(web.end, [session_id, mode], play_outputs, api_name="end").success(
        web.unfinished, None, picker, api_name=False
    )
    rewind_btn.click(web.rewind, [rewind_to, session_id, mode], play_outputs, api_name="rewind")
    tab.select(web.unfinished, None, picker, api_name="unfinished")
    gr.on([resume_pick.input, resume_btn.click], web.resume, [resume_pick], resumed, api_name="resume")
    return PractiseTab(scenario, card, picker, resume_pick, resumed)
