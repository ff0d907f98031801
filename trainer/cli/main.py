"""The `trainer` command: every interface of INTERFACES.md, offline by default.

Exit codes: 0 success, 1 a check failed, 2 bad input or usage (one line on stderr naming what is wrong).
This module only assembles the command groups and maps what they raise to those codes; each group lives
in its own module and imports its heavy libraries (LangGraph, model clients, Gradio) inside its commands.
"""

from __future__ import annotations

import sys

import typer

from trainer.cli import catalog_cmds, evals, grading, practise, web

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Role-play trainer for sales reps: practise discovery with simulated executives.",
)
app.command()(catalog_cmds.personas)
app.command()(catalog_cmds.scenarios)
app.command()(catalog_cmds.validate)
app.command()(practise.chat)
app.command()(practise.run)
app.command()(grading.grade)
app.command()(grading.classify)
app.command("eval")(evals.eval_suites)
app.command()(web.serve)
app.command()(evals.calibrate)
app.command()(evals.discovery)
app.add_typer(web.users_app, name="users")

# What the commands raise on purpose, with its exit code: 2 bad input, 1 the model could not answer.
# Classes are looked up only in modules already imported (an error from a module never loaded was never
# raised), so naming them here loads neither the session engine nor the model clients.
EXIT_CODES = {
    "trainer.datafiles.CatalogError": 2,
    "trainer.grader.transcripts.TranscriptError": 2,
    "trainer.roleplay.session.SessionError": 2,
    "trainer.cli.options.UsageError": 2,
    "trainer.team.database.StoreError": 2,
    "trainer.team.access.AccessDenied": 2,
    "trainer.llm.config.ConfigError": 2,
    "trainer.llm.seam.ModelUnavailable": 1,
    "trainer.llm.seam.ReplayMiss": 1,
}


def _exit_code(exc: Exception) -> int | None:
    for path, code in EXIT_CODES.items():
        module, name = path.rsplit(".", 1)
        if module in sys.modules and isinstance(exc, getattr(sys.modules[module], name)):
            return code
    return None


def _usage_message(exc: typer.TyperException) -> str:
    """Typer's (vendored click's) usage error as one line, pointing at the command's --help."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        message += f" (see: {ctx.command_path} {ctx.help_option_names[0]})"
    return message


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click returns a typer.Exit's code here instead of raising
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as exc:  # typer's vendored click: its usage errors derive from this
        if type(exc).__name__ != "NoArgsIsHelpError":  # `trainer` alone: the help is already printed
            print(f"error: {_usage_message(exc)}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(code)
