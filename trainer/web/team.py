"""The Team tab, for managers: assignment status, scores, trends and the dimension heatmap of their
reps, the CSV export, and a rep's session opened for review with comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from trainer.grader.scorecard import DIMENSIONS
from trainer.web import views
from trainer.web.charts import heatmap_html, trend_svg
from trainer.web.context import USER_ERRORS, WebContext

if TYPE_CHECKING:
    from trainer.web.server import Web


def dashboard(web: WebContext, request: gr.Request):
    user = web.user(request)
    try:
        board = web.trainer.dashboard(user)
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
    trend = trend_svg(board.trends, pass_mark=70, title="Overall score per rep, attempt by attempt")
    sessions = web.trainer.team_sessions(user)
    choices = [(views.session_label(r, with_user=True), r.id) for r in sessions]
    return (
        stats,
        views.status_html(board.status),
        views.scores_html(board.scores),
        trend,
        heatmap_html(board.dimensions, DIMENSIONS),
        gr.update(choices=choices, value=None),
    )


def export_csv(web: WebContext, request: gr.Request) -> str:
    user = web.user(request)
    try:
        text = web.trainer.export_csv(user)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    return web.file(f"team-{user.team or 'scores'}.csv", text)


def comment(web: WebContext, session_id: str | None, text: str, request: gr.Request):
    user = web.user(request)
    if not session_id:
        raise gr.Error("Open a session first.")
    try:
        web.trainer.comment(user, session_id, text)
        opened = web.trainer.open(user, session_id)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    return "", views.comments_html(opened.comments)


def build(web: Web) -> gr.Tab:
    """Lay out the tab (hidden until a manager's page loads) and wire its events; returns the tab."""
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
            csv_btn = gr.DownloadButton("Export CSV", scale=0, min_width=140, elem_id="export-csv")
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

    board_outputs = [team_stats, team_status, team_scores, team_trend, team_heat, review_pick]
    team_tab.select(web.dashboard, None, board_outputs, api_name="dashboard")
    refresh.click(web.dashboard, None, board_outputs, api_name=False)
    csv_btn.click(web.export_csv, None, [csv_btn], api_name="export_csv")
    review_pick.input(
        web.open_session,
        [review_pick],
        [review_card, review_comments, review_transcript, review_files, r_md, r_js],
        api_name="review_session",
    )
    post.click(web.comment, [review_pick, comment_box], [comment_box, review_comments], api_name="comment")
    return team_tab
