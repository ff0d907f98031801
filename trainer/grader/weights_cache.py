"""Read a weights file fast: the parsed JSON is kept in the user's cache as `marshal`, keyed by the file.

Parsing 1.4 MB of JSON costs a short command (`trainer classify`) about 45 ms; the marshalled copy loads
in a few. The cache is only an accelerator: any problem with it falls back to the JSON, the source of
truth, and a changed weights file (size or time) gets a new cache entry.
"""

from __future__ import annotations

import json
import marshal
import os
from pathlib import Path
from typing import Any


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trainer"


def load_weights(path: Path) -> dict[str, Any]:
    """The weights file's JSON object, from the marshal cache when it matches the file."""
    stat = path.stat()
    cached = _cache_dir() / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}.marshal"
    try:
        blob = marshal.loads(cached.read_bytes())
        if isinstance(blob, dict):
            return blob
    except (OSError, EOFError, ValueError, TypeError):
        pass
    blob = json.loads(path.read_text(encoding="utf-8"))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(blob))
        os.replace(partial, cached)  # atomic: a reader sees the whole file or none
        for stale in cached.parent.glob(f"{path.stem}-*.marshal"):
            if stale != cached:
                stale.unlink(missing_ok=True)  # copies of earlier versions of the weights
    except OSError:
        pass  # a read-only home just means no acceleration
    return blob
