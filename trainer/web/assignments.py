"""The Assign tab, for managers: set a scenario for named reps or the whole team, with a due date and a
pass mark, and see every assignment's status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from trainer.web import views
from trainer.web.context import USER_ERRORS, WebContext

if TYPE_CHECKING:
    from trainer.web.server import Web


def assign(
    web: WebContext,
    scenario_id: str,
    reps: list[str],
    whole: bool,
    due: str,
    mark: float,
    request: gr.Request,
):
    user = web.user(request)
    try:
        made = web.trainer.assign(user, scenario_id, reps, whole, due, int(mark))
        status = web.trainer.status(user)
    except (*USER_ERRORS, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    who = f"team {user.team}" if whole else ", ".join(reps)
    title = web.trainer.catalog.scenario(scenario_id).title
    note = (
        f"<div class='notice'>Assigned <b>{views.esc(title)}</b> to {views.esc(who)} "
        f"({len(made)} assignment(s)).</div>"
    )
    return note, views.status_html(status)


def assignment_status(web: WebContext, request: gr.Request) -> str:
    user = web.user(request)
    try:
        return views.status_html(web.trainer.status(user))
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None


def build(web: Web) -> tuple[gr.Tab, gr.Dropdown, gr.Dropdown]:
    """Lay out the tab (hidden until a manager's page loads) and wire its events; returns the tab, the
    reps picker and the scenario picker, which the page load fills."""
    with gr.Tab("Assign", id="assign", visible=False, elem_id="tab-assign") as assign_tab, gr.Row():
        with gr.Column(scale=4):
            a_scenario = gr.Dropdown(label="Scenario", choices=[], elem_id="assign-scenario")
            a_reps = gr.Dropdown(label="Reps", choices=[], multiselect=True, elem_id="assign-reps")
            a_team = gr.Checkbox(label="The whole team (including future members)")
            a_due = gr.Textbox(label="Due date", placeholder="YYYY-MM-DD", elem_id="assign-due")
            a_mark = gr.Slider(0, 100, value=70, step=5, label="Pass mark")
            a_go = gr.Button("Assign", variant="primary", elem_id="assign-go")
        with gr.Column(scale=7):
            a_note = gr.HTML()
            a_status = gr.HTML()

    assign_tab.select(web.assignment_status, None, [a_status], api_name="assignments")
    a_go.click(
        web.assign,
        [a_scenario, a_reps, a_team, a_due, a_mark],
        [a_note, a_status],
        api_name="assign",
    )
    return assign_tab, a_reps, a_scenario
