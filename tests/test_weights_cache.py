"""The cached copies of a weights file: same data as the JSON, renewed when the file changes."""

from __future__ import annotations

import json
import marshal
import os

import pytest

from trainer.grader.weights_cache import Packed, load_packed, load_weights, pack


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


def test_the_packed_copy_holds_the_json_weights_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    weights = tmp_path / "w.json"
    head = {
        "classes": ["a", "b"],
        "bias": [0.5, -1.25],
        "weights": {"w:cost": [0.1, -2e-300], "c: co": [1, 3.5]},
    }
    weights.write_text(json.dumps({"meta": {"format": 1}, "focus": head}))
    for _ in range(2):  # parsed from the JSON, then restored from the cache
        blob = load_packed(weights)
        assert blob["meta"] == {"format": 1} and blob["focus"]["bias"] == [0.5, -1.25]
        packed = blob["focus"]["weights"]
        assert isinstance(packed, Packed) and packed.width == 2
        assert packed.get("w:cost") == (0.1, -2e-300) and packed.get("c: co") == (1.0, 3.5)
        assert packed.get("w:other") is None
    assert len(list((tmp_path / "cache" / "trainer").glob("w-*.packed"))) == 1
    for copy in (tmp_path / "cache" / "trainer").glob("*.packed"):
        copy.write_bytes(marshal.dumps({"focus": {"classes": ["a", "b"], "weights": ("w:x", 2, b"\0" * 8)}}))
    assert load_packed(weights)["focus"]["weights"].get("w:cost") == (0.1, -2e-300)  # wrong size: the JSON


def test_packing_refuses_a_feature_with_the_wrong_number_of_weights():
    with pytest.raises(ValueError, match="w:cost"):
        pack({"w:cost": [1.0, 2.0]}, 3)
