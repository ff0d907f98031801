"""`TrainerApp`: the one object the web layer holds, the rep and manager use cases bound to it as methods.

It holds only what the use cases share (catalog, store, session graph); the logic is in `rep_actions`
and `manager_actions`, plain functions of (app, signed-in user, inputs).
"""

from __future__ import annotations

import inspect

from trainer.catalog import Catalog
from trainer.roleplay.session import Sessions
from trainer.team import manager_actions, rep_actions
from trainer.team.store import Store


class TrainerApp:
    """The app's use cases over the catalog, the store and the session graph."""

    def __init__(self, catalog: Catalog, store: Store, sessions: Sessions) -> None:
        self.catalog, self.store, self.sessions = catalog, store, sessions
        self.streams = "on_token" in inspect.signature(sessions.send).parameters

    # rep: picking and playing
    scenario_options = rep_actions.scenario_options
    option = rep_actions.option
    card = rep_actions.card
    start = rep_actions.start
    playable_view = rep_actions.playable_view
    unfinished = rep_actions.unfinished
    resume = rep_actions.resume
    send = rep_actions.send
    end = rep_actions.end
    view = rep_actions.view
    rewind_points = rep_actions.rewind_points
    rewind = rep_actions.rewind
    # rep: history, transcripts, uploads (opening and exporting serve a reviewing manager too)
    my_sessions = rep_actions.my_sessions
    open = rep_actions.open_session
    export = rep_actions.export
    persona_name = rep_actions.persona_name
    upload = rep_actions.upload
    # manager
    team_reps = manager_actions.team_reps
    team_sessions = manager_actions.team_sessions
    assign = manager_actions.assign
    status = manager_actions.status
    dashboard = manager_actions.dashboard
    export_csv = manager_actions.export_csv
    comment = manager_actions.comment
