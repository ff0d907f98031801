"""Read a weights file fast: a copy is kept in the user's cache, keyed by the file (its size and time).

Parsing 1.4 MB of JSON costs a short command (`trainer classify`) about 45 ms. `load_weights` keeps the
parsed JSON as `marshal`; `load_packed`, what the models use, keeps each head's weights `Packed`: every
feature name in one string and every weight in one block of doubles. Unpacking that makes a dict of
name -> offset (strings and ints, which the garbage collector does not track) and one list of floats,
instead of some 40,000 small lists; those lists, and the collections they set off, cost `classify` about
30 ms. A double holds a JSON number exactly, so the packed weights are the JSON's, bit for bit.

The cache is only an accelerator: any problem with it falls back to the JSON, the source of truth, and a
changed weights file gets a new cache entry.
"""

from __future__ import annotations

import json
import marshal
import os
import zlib
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Convert = Callable[[Any], Any]
_SEP = "\0"  # between the feature names of a packed head; no feature name contains it


@dataclass(frozen=True)
class Packed:
    """One head's weights, flat: feature `name`'s `width` weights are `values[index[name]:][:width]`."""

    width: int
    index: dict[str, int]
    values: list[float]

    def get(self, name: str) -> tuple[float, ...] | None:
        """The weights of one feature (for tests and tools; the models read `index` and `values`)."""
        at = self.index.get(name)
        return None if at is None else tuple(self.values[at : at + self.width])


def pack(weights: Mapping[str, Sequence[float]], width: int) -> Packed:
    """A head's {feature: [one weight per class]} packed; every feature must have `width` weights."""
    values: list[float] = []
    index: dict[str, int] = {}
    for name, vector in weights.items():
        if len(vector) != width:
            raise ValueError(f"weights of {name!r}: {len(vector)} values, expected {width}")
        index[name] = len(values)
        values.extend(float(v) for v in vector)
    return Packed(width, index, values)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trainer"


def _cached(path: Path, kind: str, fresh: Convert, dump: Convert, restore: Convert) -> Any:
    """What `fresh` makes of the file's JSON, from its copy in `~/.cache/trainer/STEM-PLACE-SIZE-TIME.KIND`
    (`dump` writes it, `restore` reads it back) when there is one that restores; else the JSON is parsed
    and the copy written."""
    stat = path.stat()
    # The file's place is in the name too: checkouts side by side (git worktrees) keep their own copies
    # instead of replacing each other's on every run.
    where = zlib.crc32(str(path.resolve()).encode())
    cached = _cache_dir() / f"{path.stem}-{where:08x}-{stat.st_size}-{stat.st_mtime_ns}.{kind}"
    try:
        return restore(marshal.loads(cached.read_bytes()))
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = fresh(json.loads(path.read_text(encoding="utf-8")))
    try:
        data = marshal.dumps(dump(value))
        cached.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, cached)  # atomic: a reader sees the whole file or none
        for stale in cached.parent.glob(f"{path.stem}-{where:08x}-*.{kind}"):
            if stale != cached:
                stale.unlink(missing_ok=True)  # copies of earlier versions of the weights
    except (OSError, ValueError):
        pass  # a read-only home (or data marshal cannot hold) just means no acceleration
    return value


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    return data


def load_weights(path: Path) -> dict[str, Any]:
    """The weights file's JSON object, from the marshal cache when it matches the file."""
    return _cached(path, "marshal", _as_dict, _as_dict, _as_dict)


def packed_heads(blob: dict[str, Any]) -> dict[str, Any]:
    """A weights file's JSON object with each head (a part with `classes` and `weights`) packed."""
    out = dict(blob)
    for name, part in blob.items():
        if isinstance(part, dict) and isinstance(part.get("weights"), dict) and "classes" in part:
            out[name] = {**part, "weights": pack(part["weights"], len(part["classes"]))}
    return out


def _dump(blob: dict[str, Any]) -> dict[str, Any]:
    """The packed blob in what marshal holds: each head's weights as (names, width, doubles)."""
    out = dict(blob)
    for name, part in blob.items():
        if isinstance(part, dict) and isinstance(part.get("weights"), Packed):
            packed: Packed = part["weights"]
            if any(_SEP in n for n in packed.index):
                raise ValueError("a feature name holds the separator")
            flat = (_SEP.join(packed.index), packed.width, array("d", packed.values).tobytes())
            out[name] = {**part, "weights": flat}
    return out


def _restore(stored: Any) -> dict[str, Any]:
    """The packed blob back from `_dump`'s form; ValueError or TypeError when it is not that form."""
    blob = _as_dict(stored)
    for name, part in blob.items():
        if isinstance(part, dict) and isinstance(part.get("weights"), tuple):
            names_text, width, raw = part["weights"]
            names = names_text.split(_SEP) if names_text else []
            values = array("d", raw).tolist()
            if not isinstance(width, int) or width < 1 or len(values) != width * len(names):
                raise ValueError("packed weights of the wrong size")
            index = dict(zip(names, range(0, len(values), width), strict=True))
            blob[name] = {**part, "weights": Packed(width, index, values)}
    return blob


def load_packed(path: Path) -> dict[str, Any]:
    """The weights file's JSON object with each head's `weights` as `Packed`, from the cache when it can."""
    return _cached(path, "packed", lambda data: packed_heads(_as_dict(data)), _dump, _restore)
