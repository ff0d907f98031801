"""The My sessions tab: the rep's scores over time, every session in a table, and one opened with its
scorecard, comments, transcript and downloads (the Team tab opens a rep's session the same way); an
unfinished one continues on the Practise tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from trainer.web import practise, views
from trainer.web.charts import trend_svg
from trainer.web.context import USER_ERRORS, WebContext

if TYPE_CHECKING:
    from trainer.web.server import Web


def history(web: WebContext, request: gr.Request):
    user = web.user(request)
    rows = web.trainer.my_sessions(user)
    scored = [r for r in rows if r.overall is not None]
    counts = web.trainer.store.comment_counts([r.id for r in rows])
    passed = sum(1 for r in scored if r.passed)
    stats = views.stats_html(
        [
            ("sessions", str(len(rows))),
            ("scored", str(len(scored))),
            ("passed", str(passed)),
            ("best score", f"{max((r.overall for r in scored), default=0):.0f}" if scored else "–"),
        ]
    )
    trend = trend_svg(
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


def _opened(web: WebContext, session_id: str | None, request: gr.Request) -> tuple[tuple, bool]:
    """The opened session's panels, and whether it is the viewer's own, still in progress."""
    user = web.user(request)
    if not session_id:
        return ("", "", "", gr.update(visible=False), gr.skip(), gr.skip()), False
    try:
        opened = web.trainer.open(user, session_id)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    name = web.trainer.persona_name(opened.row)
    row, md, js = web.downloads(user, session_id)
    mine = opened.row.username == user.name
    live = mine and opened.row.source == "practice" and not opened.row.ended
    still_open = (
        "This session is still open: <b>Continue on the Practise tab</b> carries on where you left off."
        if live
        else "This session is still in progress."
    )
    panels = (
        views.scorecard_html(opened.scorecard, name) or f"<div class='card empty'>{still_open}</div>",
        views.comments_html(opened.comments),
        views.transcript_html(opened.transcript, name, "You" if mine else opened.row.username),
        row,
        md,
        js,
    )
    return panels, live


def open_session(web: WebContext, session_id: str | None, request: gr.Request):
    """A session opened to read: its scorecard, comments, transcript and downloads (the Team tab's too)."""
    return _opened(web, session_id, request)[0]


def open_mine(web: WebContext, session_id: str | None, request: gr.Request):
    """My sessions' opened session, with Continue shown when it is the rep's own still in progress."""
    panels, live = _opened(web, session_id, request)
    return (*panels, gr.update(visible=live))


def continue_session(web: WebContext, session_id: str | None, request: gr.Request):
    """Load the session on the Practise tab (owner only, checked there) and switch to that tab."""
    if not session_id:
        raise gr.Error("Open an unfinished session first.")
    return (*practise.resume(web, session_id, request), gr.Tabs(selected="practise"))


def build(web: Web, practise_tab: practise.PractiseTab, tabs: gr.Tabs) -> None:
    """Lay out the tab and wire its events; Continue fills the Practise tab and selects it in `tabs`."""
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
        continue_btn = gr.Button(
            "Continue on the Practise tab", variant="primary", visible=False, elem_id="history-continue"
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

    history_tab.select(web.history, None, [history_stats, trend, table, pick], api_name="history")
    pick.input(
        web.open_mine,
        [pick],
        [opened_card, opened_comments, opened_transcript, history_files, h_md, h_js, continue_btn],
        api_name="open_session",
    )
    continue_btn.click(
        web.continue_session, [pick], [*practise_tab.resumed, tabs], api_name="continue_session"
    )
