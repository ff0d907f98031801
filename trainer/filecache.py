"""What a short command reads from a data file, kept ready in the user's cache (`~/.cache/trainer`).

`trainer classify` needs the two models' weights (1.4 MB of JSON, ~45 ms to parse) and two rubric files,
and listing or checking the catalog reads a dozen YAML files (importing PyYAML alone costs ~11 ms); a
`marshal`led copy of what was made from each loads in a fraction of that. A copy is only an accelerator,
never the truth: it is named after the file (its place, and its size and time or its content's digest),
anything wrong with it means the file is read again, and only what was made without error is kept, so a
bad file is reported exactly as without the cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

Build = Callable[[Path], Any]
Convert = Callable[[Any], Any]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trainer"


def _place(path: Path) -> str:
    """The file's place, so checkouts side by side (git worktrees) keep their own copies instead of
    replacing each other's on every run."""
    return f"{zlib.crc32(str(path.resolve()).encode()):08x}"


def cached(
    path: Path,
    kind: str,
    build: Build,
    dump: Convert,
    restore: Convert,
    by_content: bool = False,
    keep: int | None = None,
) -> Any:
    """`build(path)`, or the copy of it in the cache (`dump` made it, `restore` reads it back).

    The copy is named `STEM-PLACE-VERSION.KIND`; VERSION is the file's size and modification time, or with
    `by_content` a digest of its bytes (for small files people edit: two saves within one tick of the
    file system's clock would share a time). An error from `build` goes to the caller, and nothing is kept.
    A place keeps one copy; `keep` bounds the copies of this kind (files in temporary folders, say), the
    least recently written going first.
    """
    try:
        if by_content:
            version = hashlib.blake2b(path.read_bytes(), digest_size=12).hexdigest()
        else:
            stat = path.stat()
            version = f"{stat.st_size}-{stat.st_mtime_ns}"
    except OSError:
        return build(path)  # a file that cannot be read: what `build` says about it
    prefix = f"{path.stem}-{_place(path)}-"
    copy = cache_dir() / f"{prefix}{version}.{kind}"
    try:
        return restore(marshal.loads(copy.read_bytes()))
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = build(path)
    try:
        data = marshal.dumps(dump(value))
        copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = copy.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, copy)  # atomic: a reader sees the whole file or none
        for stale in copy.parent.glob(f"{prefix}*.{kind}"):
            if stale != copy:
                stale.unlink(missing_ok=True)  # copies of earlier versions of the file
        if keep is not None:
            _bound(copy.parent, kind, keep)
    except (OSError, ValueError):
        pass  # a read-only home (or data marshal cannot hold) just means no acceleration
    return value


def _bound(folder: Path, kind: str, keep: int) -> None:
    """Remove all but the `keep` most recently written copies of this kind."""
    names = list(folder.glob(f"*.{kind}"))
    if len(names) <= keep:
        return  # the common case: no need to look at their times
    copies = []
    for copy in names:
        try:
            copies.append((copy.stat().st_mtime_ns, copy))
        except OSError:
            continue  # removed meanwhile
    copies.sort(reverse=True)
    for _, old in copies[keep:]:
        old.unlink(missing_ok=True)
