"""Who is asking: the signed-in user behind each request, the login check the server runs, and when
sign-in is required at all (as soon as users exist, or when anyone but this machine can connect)."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import gradio as gr
from fastapi import HTTPException

from trainer.team.access import LOCAL_USER
from trainer.team.logins import StoredTokens
from trainer.team.passwords import check_login
from trainer.team.store import Store, User
from trainer.team.throttle import PER_NAME, WINDOW, OneAtATime, SignInThrottle
from trainer.web.views import esc

LOGIN_MESSAGE = (
    "<span style='display:flex;align-items:center;gap:12px;margin:4px 0 6px'>"
    "<span style='width:38px;height:38px;border-radius:10px;"
    "background:linear-gradient(135deg,#4f46e5,#0891b2);color:#fff;display:inline-grid;place-items:center;font-size:19px'>◆</span>"
    "<span><b style='font-size:18px;color:#111827'>Discovery Trainer</b><br>"
    "<span style='color:#64748b;font-size:13px'>Sign in with the name and password your manager gave you."
    f" After {PER_NAME} wrong passwords, sign-in pauses for up to {WINDOW / 60:.0f} minutes."
    "</span></span></span>"
)
# The connecting address of the request being served (Gradio hands the login check only name and password).
CLIENT_ADDRESS: ContextVar[str] = ContextVar("client_address", default="")


class RecordClientAddress:
    """ASGI middleware: note each request's client address for the login check's throttle.

    It is the address the server sees; behind a proxy on this machine, uvicorn takes it from the proxy's
    X-Forwarded-For (`FORWARDED_ALLOW_IPS` names other proxies to trust).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = CLIENT_ADDRESS.set((scope.get("client") or ("",))[0] if scope["type"] == "http" else "")
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


def signed_in_user(store: Store, local: bool, request: gr.Request | None) -> User:
    """The signed-in user, or the local user when the app runs without login and has no users."""
    name = getattr(request, "username", None)
    if name == LOCAL_USER.name or (not name and local):
        if local and store.user_count() == 0:
            return LOCAL_USER
        raise gr.Error("Please sign in: accounts exist now, so reload the page and sign in.")
    if name:
        found = store.user(name)
        if found is None:
            raise gr.Error("Your account no longer exists. Sign out and in again.")
        return found
    raise gr.Error("Please sign in.")


def header_html(user: User) -> str:
    """The page header: the brand, and who is signed in with a sign-out link (or the local mode)."""
    who = f"{user.name} · {user.role}" + (f" · team {user.team}" if user.team else "")
    account = (
        f"<span class='who'>{esc(who)}</span><a class='signout' href='logout'>Sign out</a>"
        if user is not LOCAL_USER
        else "<span class='who'>Local practice · no sign-in needed</span>"
    )
    return (
        "<div class='brand'><div class='logo'>◆</div><div><div class='brand-name'>Discovery Trainer</div>"
        "<div class='brand-sub'>Practise the questions that open executives up</div></div>"
        f"<div class='account'>{account}</div></div>"
    )


def login_check(
    store: Store, throttle: SignInThrottle | None = None
) -> Callable[[str, str], Awaitable[bool]]:
    """The password check Gradio runs at the login form, against the store's users.

    Gradio awaits it inside its async login route, so the slow password hash runs in a worker thread,
    never on the event loop every signed-in user's events go through; a try over the throttle's limit
    is refused (HTTP 429, with the wait) without hashing at all.
    """
    limits = throttle or SignInThrottle()
    turns = OneAtATime()  # one try at a time per name and per address: parallel guesses wait their turn

    async def check(username: str, password: str) -> bool:
        name, address = username.strip(), CLIENT_ADDRESS.get()
        async with turns.held(f"name:{name}", f"address:{address}"):
            wait = limits.wait(name, address)
            if wait:
                minutes = math.ceil(wait / 60)
                raise HTTPException(
                    status_code=429,
                    detail="Too many failed sign-ins for this name or from this address: "
                    f"try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                    headers={"Retry-After": str(math.ceil(wait))},
                )
            ok = await asyncio.to_thread(check_login, store, name, password)
            if ok:
                limits.succeeded(name)
            else:
                limits.failed(name, address)
            return ok

    return check


def keep_sign_ins_in_store(demo: Any, store: Store, local: bool, max_age: timedelta | None = None) -> None:
    """Gradio's login tokens, kept in the store (see `StoredTokens`); `local` lets everyone in as the
    local practice user while no accounts exist; a sign-in lasts `max_age` (default: `session_max_age()`)."""
    demo.server_app.tokens = StoredTokens(store, open_when_empty=local, max_age=max_age)
    # Gradio names its sign-in cookie after a random id per process; one id per database instead, so a
    # sign-in holds after a restart and on every instance behind a proxy.
    demo.server_app.cookie_id = store.shared_value("cookie_id", lambda: secrets.token_urlsafe(24))
