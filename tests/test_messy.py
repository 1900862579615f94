"""Messy corpora: every odd file is either indexed correctly or skipped with a reason, never
fatal, and never at the cost of another file's content."""

from __future__ import annotations

import os
import random
import shutil
import time
import unicodedata
from pathlib import Path

import pytest

import rag.store.index
from rag.corpus.ingest import read_file
from rag.evals.datasets import data_root
from rag.models.embedding import HashingEmbedder
from rag.store.index import build_index, index_freshness, load_index

UTF16 = data_root() / "vntc" / "utf16le_original" / "Train_Full"
GOOD = "Hội nghị thượng đỉnh tại Budapest được đề xuất bởi ông Trump."


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows wrote it: precomposed vowel, then a combining tone mark."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        out.append(unicodedata.normalize("NFC", "".join(m for m in d if m not in tones)) + "".join(m for m in d if m in tones))
    return "".join(out).encode("cp1258")


def _skip_reasons(report) -> dict[str, str]:
    return {s["file"]: s["reason"] for s in report.skipped}


@pytest.fixture
def messy(tmp_path) -> Path:
    c = tmp_path / "corpus"
    (c / "Thời sự" / "2024" / "tháng 5").mkdir(parents=True)
    (c / "good.txt").write_text(GOOD + "\n", encoding="utf-8")
    (c / "Bài (1) mới – Hà Nội.txt").write_text("Tên tệp có dấu cách, ngoặc và chữ Việt.\n", encoding="utf-8")
    (c / "Thời sự" / "2024" / "tháng 5" / "sâu.txt").write_text("Bài trong thư mục lồng nhau.\n", encoding="utf-8")
    (c / "nfd.txt").write_bytes(unicodedata.normalize("NFD", "Thủ tướng phát biểu về kinh tế\r\n").encode())
    (c / "cp1258.txt").write_bytes(_cp1258("Hà Nội mùa thu đẹp lắm\r\nDòng hai của bài\r\n"))
    (c / "empty.txt").write_bytes(b"")
    (c / "blank.txt").write_bytes(b" \r\n\r\n\t\n")
    (c / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    (c / "noise.txt").write_bytes(random.Random(0).randbytes(20_000))
    (c / "huge.txt").write_bytes(("chữ " * 4_000_000).encode()[: 20 * 1024 * 1024])  # 20 MB, one line
    if UTF16.is_dir():
        for f in sorted(UTF16.rglob("*.txt"))[:2]:  # UTF-16LE, BOM, CRLF, names like "XH_NLD_ (3672).txt"
            shutil.copyfile(f, c / "Thời sự" / f.name)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("bí mật ngoài kho\n", encoding="utf-8")
    (c / "link-out.txt").symlink_to(outside / "secret.txt")
    (c / "dir-out").symlink_to(outside, target_is_directory=True)
    (c / "link-in.txt").symlink_to(c / "good.txt")
    (c / "loop-a.txt").symlink_to(c / "loop-b.txt")
    (c / "loop-b.txt").symlink_to(c / "loop-a.txt")
    (c / "dangling.txt").symlink_to(c / "nowhere.txt")
    (c / "Thời sự" / "loop").symlink_to(c, target_is_directory=True)  # a folder loop: must not hang
    os.mkfifo(c / "pipe.txt")  # opening it would block forever
    (c / os.fsdecode(b"bad-\xff-name.txt")).write_text("tên tệp không phải UTF-8\n", encoding="utf-8")
    return c


def test_messy_corpus_indexes_the_good_and_reports_the_rest(messy, tmp_path):
    t0 = time.perf_counter()
    report = build_index(messy, tmp_path / "idx", HashingEmbedder())
    assert time.perf_counter() - t0 < 30
    loaded = load_index(tmp_path / "idx")
    text_of = {f: " ".join(c.text for c in loaded.chunks if c.file == f) for f in loaded.docs}
    assert GOOD in text_of["good.txt"] and GOOD in text_of["link-in.txt"]
    assert "ngoặc" in text_of["Bài (1) mới – Hà Nội.txt"]
    assert "lồng nhau" in text_of["Thời sự/2024/tháng 5/sâu.txt"]
    assert text_of["nfd.txt"] == unicodedata.normalize("NFC", "Thủ tướng phát biểu về kinh tế")
    assert loaded.docs["cp1258.txt"].encoding == "cp1258" and "Hà Nội mùa thu" in text_of["cp1258.txt"]
    assert all(unicodedata.is_normalized("NFC", c.text) and "\r" not in c.text for c in loaded.chunks)
    utf16 = [f for f in loaded.docs if f.startswith("Thời sự/") and "(" in f]
    if UTF16.is_dir():
        assert len(utf16) == 2 and all(loaded.docs[f].encoding == "utf-16" for f in utf16)
        assert all(len(text_of[f]) > 200 for f in utf16)
    reasons = _skip_reasons(report)
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.txt"]
    assert "binary" in reasons["image.txt"] and ("binary" in reasons["noise.txt"] or "not UTF-8" in reasons["noise.txt"])
    assert "max_file_mb" in reasons["huge.txt"]
    assert "outside" in reasons["link-out.txt"]
    assert "symlink" in reasons["loop-a.txt"] and "symlink" in reasons["loop-b.txt"] and "symlink" in reasons["dangling.txt"]
    assert "regular" in reasons["pipe.txt"]
    assert any("UTF-8" in r and "name" in r for r in reasons.values())
    assert not any("secret" in f or "dir-out" in f or "/loop/" in f for f in loaded.docs)
    assert not any(f in loaded.docs for f in reasons)
    # A second run changes nothing and keeps reporting the same skips.
    again = build_index(messy, tmp_path / "idx", HashingEmbedder())
    assert again.embedded_chunks == 0 and _skip_reasons(again) == reasons


def test_size_cap_is_a_setting(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"a " * 600_000)
    assert "max_file_mb = 1" in read_file(p, "big.txt", max_file_mb=1).reason
    assert read_file(p, "big.txt", max_file_mb=2).lines


def test_file_deleted_while_indexing_is_skipped_and_the_rest_kept(messy, tmp_path, monkeypatch):
    real = rag.store.index.read_file

    def racing_read(path, rel, *a):
        if rel == "nfd.txt":
            path.unlink()  # vanishes between listing and reading
        return real(path, rel, *a)

    monkeypatch.setattr(rag.store.index, "read_file", racing_read)
    report = build_index(messy, tmp_path / "idx", HashingEmbedder())
    assert "unreadable" in _skip_reasons(report)["nfd.txt"]
    assert "good.txt" in load_index(tmp_path / "idx").docs


def test_file_rewritten_while_indexing_is_seen_as_changed_next_time(messy, tmp_path, monkeypatch):
    real = rag.store.index.read_file

    def racing_read(path, rel, *a):
        got = real(path, rel, *a)
        if rel == "good.txt":
            path.write_text("Nội dung mới sau khi đọc.\n", encoding="utf-8")
        return got

    monkeypatch.setattr(rag.store.index, "read_file", racing_read)
    build_index(messy, tmp_path / "idx", HashingEmbedder())
    monkeypatch.setattr(rag.store.index, "read_file", real)
    loaded = load_index(tmp_path / "idx")
    assert any(GOOD in c.text for c in loaded.chunks if c.file == "good.txt")  # a consistent snapshot of what was read
    assert index_freshness(messy, loaded)["changed"] == ["good.txt"]
    report = build_index(messy, tmp_path / "idx", HashingEmbedder())
    assert report.changed == ["good.txt"]
    assert any("Nội dung mới" in c.text for c in load_index(tmp_path / "idx").chunks if c.file == "good.txt")


def _age(corpus: Path, seconds: float = 3600) -> None:
    past = time.time() - seconds
    for p in corpus.rglob("*.txt"):
        os.utime(p, (past, past))


def test_freshness_and_rebuild_hash_only_files_whose_stat_changed(seeds_copy, tmp_path, monkeypatch):
    _age(seeds_copy)
    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    loaded = load_index(tmp_path / "idx")
    entry = loaded.manifest["files"]["001_f9b850b45a61ace5.txt"]
    assert entry["size"] > 0 and entry["mtime_ns"] > 0 and len(entry["sha256"]) == 64

    hashed, read = [], []
    real_sha, real_read = rag.store.index.hashlib.sha256, rag.store.index.read_file
    monkeypatch.setattr(rag.store.index.hashlib, "sha256", lambda data=b"": hashed.append(1) or real_sha(data))
    monkeypatch.setattr(rag.store.index, "read_file", lambda path, rel, *a: read.append(rel) or real_read(path, rel, *a))
    assert index_freshness(seeds_copy, loaded) == {"added": [], "changed": [], "removed": []}
    assert hashed == []  # nothing touched: nothing hashed

    touched = seeds_copy / "000_020cd028f121f00f.txt"
    os.utime(touched)  # new mtime, same bytes: hashed, but not "changed"
    edited = seeds_copy / "002_53fd72eb26a31149.txt"
    data = edited.read_bytes()
    edited.write_bytes(data.replace(b"a", b"o", 1))  # same size, new content
    assert index_freshness(seeds_copy, loaded)["changed"] == ["002_53fd72eb26a31149.txt"]
    assert len(hashed) == 2

    report = build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    assert report.changed == ["002_53fd72eb26a31149.txt"] and len(report.unchanged) == 4
    assert sorted(read) == ["000_020cd028f121f00f.txt", "002_53fd72eb26a31149.txt"]  # the other three were not re-read
