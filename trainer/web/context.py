"""What every tab's handlers share: the use cases, whether the no-login local user is allowed, the
folder downloads are written to, and which errors are the user's to read (a message, never a crash)."""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from trainer.catalog import CatalogError
from trainer.grader.transcripts import TranscriptError
from trainer.roleplay.session import SessionError
from trainer.team.access import AccessDenied
from trainer.team.app import TrainerApp
from trainer.team.database import StoreError
from trainer.team.store import User
from trainer.web.signin import signed_in_user

USER_ERRORS = (AccessDenied, SessionError, StoreError, TranscriptError, CatalogError)


DOWNLOAD_SECONDS = 300  # a download's file outlives its handler only until Gradio has served its copy


def _download_folder() -> Path:
    """A folder only this process's user can open (mkdtemp makes it 0700), removed when the app goes."""
    return Path(tempfile.mkdtemp(prefix="trainer-downloads-"))


@dataclass(eq=False)  # hashed by identity, like a plain object: its bound handlers stay hashable
class WebContext:
    """The Blocks app's state over one TrainerApp; `local` allows the no-login single user on localhost."""

    trainer: TrainerApp
    local: bool
    files: Path = field(default_factory=_download_folder)

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.files, ignore_errors=True)  # at exit, or when dropped

    def user(self, request: gr.Request | None) -> User:
        """The signed-in user, or the local user when the app runs without login and has no users."""
        return signed_in_user(self.trainer.store, self.local, request)

    def file(self, name: str, text: str) -> str:
        """Write a download to its own folder (so its name is kept), owner-only, and return its path.

        Downloads older than DOWNLOAD_SECONDS are deleted first: Gradio serves its own copy by then.
        """
        self._drop_old_downloads()
        folder = Path(tempfile.mkdtemp(dir=self.files))
        path = folder / name
        path.touch(mode=0o600, exist_ok=False)  # created owner-only, then filled
        path.write_text(text, encoding="utf-8")
        return str(path)

    def _drop_old_downloads(self) -> None:
        oldest = time.time() - DOWNLOAD_SECONDS
        for folder in self.files.iterdir():
            try:
                if folder.stat().st_mtime < oldest:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:  # another request dropped it first
                continue

    def downloads(self, user: User, session_id: str) -> tuple[Any, Any, Any]:
        """The session's download row, shown, with its Markdown and JSON files."""
        md_name, md = self.trainer.export(user, session_id, "md")
        js_name, js = self.trainer.export(user, session_id, "json")
        return (
            gr.update(visible=True),
            gr.update(value=self.file(md_name, md)),
            gr.update(value=self.file(js_name, js)),
        )
