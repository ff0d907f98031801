"""Where trainer keeps its data (the one database of store and sessions): `$TRAINER_DATA_DIR` or the user's
data dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    chosen = os.environ.get("TRAINER_DATA_DIR")
    if chosen:
        path = Path(chosen).expanduser()
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / "trainer"
    elif os.name == "nt":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "trainer"
    else:
        path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "trainer"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # the store holds password hashes: owner only
    return path
