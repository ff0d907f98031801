"""Read a weights file fast, through a copy in the user's cache (trainer/filecache.py) named after the file.

Parsing 1.4 MB of JSON costs a short command (`trainer classify`) about 45 ms. `load_weights` keeps the
parsed JSON as `marshal`; `load_packed`, what the models use, keeps each head's weights `Packed`: every
feature name in one string and every weight in one block of doubles. Unpacking that makes a dict of
name -> offset (strings and ints, which the garbage collector does not track) and one array of doubles,
instead of some 40,000 small lists; those lists, and the collections they set off, cost `classify` about
30 ms. A double holds a JSON number exactly, so the packed weights are the JSON's, bit for bit.

The cache is only an accelerator: any problem with it falls back to the JSON, the source of truth, and a
changed weights file gets a new cache entry.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trainer.filecache import cached

_SEP = "\0"  # between the feature names of a packed head; no feature name contains it


class Packed:
    """One head's weights, flat: feature `name`'s `width` weights are `values[index[name]:][:width]`.

    A plain class, like the models' other holders: a dataclass takes about 1 ms to define, at every start.
    """

    __slots__ = ("index", "values", "width")

    def __init__(self, width: int, index: dict[str, int], values: array[float]) -> None:
        self.width, self.index, self.values = width, index, values

    def get(self, name: str) -> tuple[float, ...] | None:
        """The weights of one feature (for tests and tools; the models read `index` and `values`)."""
        at = self.index.get(name)
        return None if at is None else tuple(self.values[at : at + self.width])


def pack(weights: Mapping[str, Sequence[float]], width: int) -> Packed:
    """A head's {feature: [one weight per class]} packed; every feature must have `width` weights."""
    values = array("d")
    index: dict[str, int] = {}
    for name, vector in weights.items():
        if len(vector) != width:
            raise ValueError(f"weights of {name!r}: {len(vector)} values, expected {width}")
        index[name] = len(values)
        values.extend(float(v) for v in vector)
    return Packed(width, index, values)


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    return data


def _read(path: Path) -> dict[str, Any]:
    return _as_dict(json.loads(path.read_text(encoding="utf-8")))


def load_weights(path: Path) -> dict[str, Any]:
    """The weights file's JSON object, from the marshal cache when it matches the file."""
    return cached(path, "marshal", _read, _as_dict, _as_dict)


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
            flat = (_SEP.join(packed.index), packed.width, packed.values.tobytes())
            out[name] = {**part, "weights": flat}
    return out


def _restore(stored: Any) -> dict[str, Any]:
    """The packed blob back from `_dump`'s form; ValueError or TypeError when it is not that form."""
    blob = _as_dict(stored)
    for name, part in blob.items():
        if isinstance(part, dict) and isinstance(part.get("weights"), tuple):
            names_text, width, raw = part["weights"]
            if not isinstance(names_text, str) or not isinstance(raw, bytes):
                raise TypeError("not packed weights")
            names = names_text.split(_SEP) if names_text else []
            values = array("d", raw)
            if not isinstance(width, int) or width < 1 or len(values) != width * len(names):
                raise ValueError("packed weights of the wrong size")
            index = dict(zip(names, range(0, len(values), width), strict=True))
            blob[name] = {**part, "weights": Packed(width, index, values)}
    return blob


def load_packed(path: Path) -> dict[str, Any]:
    """The weights file's JSON object with each head's `weights` as `Packed`, from the cache when it can."""
    return cached(path, "packed", lambda p: packed_heads(_read(p)), _dump, _restore)
