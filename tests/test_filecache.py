"""The cache of what was read from data files: the same data as reading them, never a bad file's."""

from __future__ import annotations

import marshal
import os

import pytest

from trainer.datafiles import CatalogError, read_yaml
from trainer.filecache import cached


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trainer"


def test_yaml_comes_back_the_same_from_the_cache_and_after_a_broken_copy(tmp_path, cache):
    path = tmp_path / "topics.yaml"
    path.write_text("budget: [cost, spend]\nwhen: 2024-01-01\nn: 3\n", encoding="utf-8")
    with pytest.raises(ValueError):  # a date marshal cannot hold: read every time, never kept
        marshal.dumps(read_yaml(path))
    assert list(cache.glob("*.yaml")) == []
    path.write_text("budget: [cost, spend]\nn: 3\nratio: 0.5\nok: true\nnone: null\n", encoding="utf-8")
    want = {"budget": ["cost", "spend"], "n": 3, "ratio": 0.5, "ok": True, "none": None}
    assert read_yaml(path) == want  # parsed, and kept
    (copy,) = cache.glob("topics-*.yaml")
    assert read_yaml(path) == want  # from the copy
    copy.write_bytes(b"\x00garbage")
    assert read_yaml(path) == want


def test_a_bad_yaml_file_is_reported_every_time_and_never_kept(tmp_path, cache):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [b\n", encoding="utf-8")
    errors = []
    for _ in range(2):
        with pytest.raises(CatalogError) as caught:
            read_yaml(path)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "invalid YAML" in errors[0]
    assert not cache.exists() or list(cache.glob("*")) == []


def test_keep_bounds_the_copies_of_a_kind(tmp_path, cache):
    for n in range(4):
        folder = tmp_path / f"place{n}"
        folder.mkdir()
        (folder / "f.txt").write_text(str(n))
        cached(folder / "f.txt", "txt", lambda p: p.read_text(), str, str, by_content=True, keep=2)
        for copy in cache.glob("*.txt"):  # written in this order, whatever the clock's resolution
            if copy.stat().st_mtime_ns > 10**12:
                os.utime(copy, ns=(10**9 * (n + 1), 10**9 * (n + 1)))
    assert sorted(c.read_bytes()[-1:] for c in cache.glob("*.txt")) == [b"2", b"3"]
