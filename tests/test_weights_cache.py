"""The marshalled copy of a weights file: same data as the JSON, renewed when the file changes."""

from __future__ import annotations

import json
import os

from trainer.grader.weights_cache import load_weights


def test_the_cache_gives_the_json_and_follows_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"bias": [0.5, -1.25], "weights": {"w:cost": [1.0, 2.0]}}))
    first = load_weights(weights)
    cached = list((tmp_path / "cache" / "trainer").glob("w-*.marshal"))
    assert len(cached) == 1
    assert load_weights(weights) == first == json.loads(weights.read_text())
    weights.write_text(json.dumps({"bias": [0.0, 0.0, 0.0]}))
    os.utime(weights, ns=(1, 1))
    assert load_weights(weights) == {"bias": [0.0, 0.0, 0.0]}
    assert [p.name for p in (tmp_path / "cache" / "trainer").glob("w-*.marshal")] != [cached[0].name]


def test_a_broken_or_unwritable_cache_falls_back_to_the_json(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"a": 1}))
    load_weights(weights)
    for copy in (tmp_path / "cache" / "trainer").glob("*.marshal"):
        copy.write_bytes(b"\x00garbage")
    assert load_weights(weights) == {"a": 1}
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no-such-place")
    assert load_weights(weights) == {"a": 1}
