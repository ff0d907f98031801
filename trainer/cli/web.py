"""`trainer serve` and `trainer users ...`: start the web app and manage who may sign in to it.

Gradio and the team store are imported inside the commands: listing or grading never waits for them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from trainer.cli.console import emit, out
from trainer.cli.options import (
    CatalogOpt,
    DatabaseOpt,
    JsonOpt,
    LLMFlags,
    UsageError,
    backend_options,
    store_at,
)
from trainer.cli.practise import persona_voice

users_app = typer.Typer(no_args_is_help=True, help="Manage the web app's users: reps and managers, in teams.")

PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")]


def _new_password(from_stdin: bool) -> str:
    """Read a password without echo (twice on a terminal), or one line from stdin for scripts."""
    import getpass

    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("password: the two entries differ")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Sign-in name (one word).")],
    role: Annotated[str, typer.Option("--role", help="rep or manager.")] = "rep",
    team: Annotated[str, typer.Option("--team", help="Team name; managers see their team's reps.")] = "",
    password_stdin: PasswordStdinOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a user; the password is asked for (or read from stdin) and stored only as a scrypt hash."""
    from trainer.team.database import StoreError
    from trainer.team.passwords import hash_password

    store = store_at(database_url)
    try:
        user = store.add_user(name, role, team, hash_password(_new_password(password_stdin)))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"added {user.role} {user.name}" + (f" (team {user.team})" if user.team else ""))


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    password_stdin: PasswordStdinOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Set a new password for a user."""
    from trainer.team.database import StoreError
    from trainer.team.passwords import hash_password

    store = store_at(database_url)
    try:
        store.set_password(name, hash_password(_new_password(password_stdin)))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"password changed for {name}")


@users_app.command("list")
def users_list(as_json: JsonOpt = False, database_url: DatabaseOpt = None) -> None:
    """List users with their role and team (never their passwords)."""
    users = store_at(database_url).users()
    if as_json:
        emit([{"name": u.name, "role": u.role, "team": u.team} for u in users])
        return
    if not users:
        out.print("no users yet: the app runs without sign-in on 127.0.0.1 until you add one")
    for u in users:
        out.print(f"[bold]{u.name}[/bold]  {u.role}" + (f"  team {u.team}" if u.team else ""))


@backend_options("backend", "model")
def serve(
    llm: LLMFlags,
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: the first free from 7860).")
    ] = None,
    database_url: DatabaseOpt = None,
    catalog: CatalogOpt = None,
) -> None:
    """Start the web app and print its URL; sign-in is required once users exist or beyond localhost."""
    settings = llm.settings()
    from trainer.catalog import load_catalog
    from trainer.team.database import StoreError

    cat = load_catalog(catalog)
    store = store_at(database_url)
    from trainer.web.server import launch

    try:
        demo, url = launch(
            cat, store, store.db.checkpointer(), host=host, port=port, voice=persona_voice(settings, cat)
        )
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    login = "sign-in required"
    if store.user_count() == 0:
        login = "no sign-in needed on this machine until you add users"
    out.print(f"Discovery Trainer is running at [bold]{url}[/bold]  ({login}; Ctrl+C to stop)")
    out.print(f"[dim]Personas speak through: {settings.describe()}[/dim]")
    demo.block_thread()
