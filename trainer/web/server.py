"""The Gradio web app: reps practise and review, managers assign and watch their team.

Every handler resolves the signed-in user from the request and calls `TrainerApp`, which checks access
on the server; the UI only decides what to show. `serve()` starts it offline, with login whenever users
exist or the app listens beyond localhost, and with enough queue concurrency for a team chatting at once.
This module holds the theme, the page (header, tabs, page load) and the server; each tab is its own module.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home
# Gradio summarises its event log with pandas after every event by default (quadratic under load, and only
# for its monitoring page, which this app does not use): summarise rarely and keep a short log.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import importlib.util
import sys
from pathlib import Path
from typing import Any

# Gradio tries `import matplotlib` twice around every event, on its event loop; without matplotlib each
# failed import searches sys.path again (a seventh of the loop's time under load). Mark it missing once.
if importlib.util.find_spec("matplotlib") is None:
    sys.modules["matplotlib"] = None  # type: ignore[assignment]

import gradio as gr
from starlette.middleware import Middleware

from trainer.catalog import Catalog
from trainer.grader.classifier import load_model
from trainer.grader.transcripts import MAX_TRANSCRIPT_BYTES
from trainer.roleplay.session import Sessions
from trainer.roleplay.voice import Voice, offline_voice
from trainer.team.access import LOCAL_HOSTS, refuse_open_without_users
from trainer.team.app import TrainerApp
from trainer.team.logins import session_max_age
from trainer.team.store import Store
from trainer.web import assignments, grade_call, my_sessions, practise, team
from trainer.web.context import WebContext
from trainer.web.signin import (
    LOGIN_MESSAGE,
    RecordClientAddress,
    header_html,
    keep_sign_ins_in_store,
    login_check,
)

CONCURRENCY = 128  # events running at once, per event and in total: 50 reps must not queue behind each other
QUEUE_POLL = 0.005  # s between Gradio's queue polls for new events (its 1 ms costs ~8% of a core idle)
# Gradio's own copies of downloads and uploaded calls: checked hourly, deleted an hour old, and all at exit.
CACHE_LIFE = (3600, 3600)

CSS = (Path(__file__).parent / "app.css").read_text(encoding="utf-8")


class InstanceHeader:
    """ASGI middleware: name the instance that answered (`X-Trainer-Instance`), when `$TRAINER_INSTANCE`
    names it: behind a proxy, an operator (or a test) can see where a browser's requests are routed."""

    def __init__(self, app: Any, name: str) -> None:
        self.app, self.header = app, (b"x-trainer-instance", name.encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def named(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, named)


def middleware() -> list[Middleware]:
    """The address the throttle counts, and the instance's name when it runs behind a proxy."""
    stack = [Middleware(RecordClientAddress)]
    if name := os.environ.get("TRAINER_INSTANCE", "").strip():
        stack.append(Middleware(InstanceHeader, name=name))
    return stack


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


def on_load(web: WebContext, request: gr.Request):
    """The page as this user may see it: the header, their scenarios, and the manager tabs for managers."""
    user = web.user(request)
    manager = user.is_manager
    options = web.trainer.scenario_options(user)
    choices = [(o.label, o.key) for o in options]
    first = choices[0][1] if choices else None
    reps = [u.name for u in web.trainer.team_reps(user)] if manager else []
    scen = [(s.title, s.id) for s in web.trainer.catalog.scenarios.values()]
    return (
        header_html(user),
        gr.update(choices=choices, value=first),
        practise.preview(web, first, request),
        gr.update(visible=manager),
        gr.update(visible=manager),
        gr.update(choices=reps, value=[]),
        gr.update(choices=scen, value=scen[0][1] if scen else None),
    )


class Web(WebContext):
    """The context with every tab's handlers bound to it as methods: what the page wires, and what a
    test calls directly (`Web(trainer, local=False).start(key, mode, request)`)."""

    on_load = on_load
    preview = practise.preview
    start = practise.start
    send = practise.send
    end = practise.end
    rewind = practise.rewind
    unfinished = practise.unfinished
    resume = practise.resume
    history = my_sessions.history
    open_session = my_sessions.open_session
    open_mine = my_sessions.open_mine
    continue_session = my_sessions.continue_session
    upload = grade_call.upload
    dashboard = team.dashboard
    export_csv = team.export_csv
    comment = team.comment
    assign = assignments.assign
    assignment_status = assignments.assignment_status

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="Discovery Trainer", delete_cache=CACHE_LIFE) as demo:
            header = gr.HTML(elem_id="header")
            with gr.Tabs(elem_id="tabs") as tabs:
                practise_tab = practise.build(self)
                my_sessions.build(self, practise_tab, tabs)
                grade_call.build(self)
                team_tab = team.build(self)
                assign_tab, a_reps, a_scenario = assignments.build(self)
            loaded = demo.load(
                self.on_load,
                outputs=[
                    header,
                    practise_tab.scenario,
                    practise_tab.card,
                    team_tab,
                    assign_tab,
                    a_reps,
                    a_scenario,
                ],
                api_name="load",
            )
            # Then the rep's unfinished sessions, after a reload or a restart: the only one is continued.
            loaded.success(self.unfinished, None, practise_tab.picker, api_name=False).success(
                self.resume, [practise_tab.resume_pick], practise_tab.resumed, api_name=False
            )
        return demo


# ---------------------------------------------------------------- serving


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
    refuse_open_without_users(host, store, "trainer users add NAME --role manager --team T")
    max_age = session_max_age()  # a bad $TRAINER_SESSION_DAYS stops the start, before anything listens
    _, demo = create(catalog, store, checkpointer, voice=voice, local=local)
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=quiet,
        # Always behind the login check: on localhost it lets everyone in while no accounts exist
        # (StoredTokens' open_when_empty), and asks for sign-in from the moment the first is added.
        auth=login_check(store),
        auth_message=LOGIN_MESSAGE,
        app_kwargs={"middleware": middleware()},
        max_file_size=MAX_TRANSCRIPT_BYTES,  # the only uploads are transcripts: refused at the door
        max_threads=CONCURRENCY,
        show_error=False,
        footer_links=[],
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
    keep_sign_ins_in_store(demo, store, local, max_age)
    if hasattr(demo._queue, "sleep_when_free"):  # a private knob of Gradio's queue; skipped if it goes
        demo._queue.sleep_when_free = QUEUE_POLL
    url = demo.local_url or f"http://{host}:{port}/"
    return demo, url
