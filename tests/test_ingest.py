import codecs
import unicodedata

import pytest

from rag.corpus.chunking import MAX_CHARS, chunk_document
from rag.corpus.ingest import Skipped, parse_document, read_corpus, read_file
from rag.errors import CorpusError
from rag.text import fold, is_vietnamese, keyword_tokens, nfc

VI = "Hội nghị thượng đỉnh tại Budapest"


@pytest.mark.parametrize(
    "data,encoding",
    [
        (("Dòng một\nDòng hai\n").encode(), "utf-8"),
        (codecs.BOM_UTF8 + "Dòng một\r\nDòng hai\r\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "Dòng một\r\nDòng hai\r\n".encode("utf-16-le"), "utf-16"),
        ("Dòng một\rDòng hai".encode(), "utf-8"),
        (unicodedata.normalize("NFD", "Dòng một\nDòng hai").encode(), "utf-8"),
    ],
)
def test_decoding_keeps_lines_and_normalises(data, encoding):
    doc = parse_document("a.txt", data)
    assert doc.lines == ("Dòng một", "Dòng hai")
    assert all(unicodedata.is_normalized("NFC", ln) for ln in doc.lines)
    assert doc.encoding == encoding


def test_windows_1258_is_detected():
    text = "Hà Nô\u0323i mùa thu"  # cp1258 writes some tone marks as combining characters
    doc = parse_document("a.txt", text.encode("cp1258"))
    assert doc.encoding == "cp1258"
    assert doc.lines[0] == nfc(text)


def test_line_numbers_are_one_based_and_blank_lines_count():
    doc = parse_document("a.txt", b"A\n\nB\n")
    chunks = chunk_document(doc)
    assert [(c.start_line, c.text) for c in chunks] == [(1, "A"), (3, "B")]


def test_date_header_becomes_metadata_not_a_chunk():
    doc = parse_document("a.txt", " date 2025-10-21 Tiêu đề bài\n\nNội dung\n".encode())
    assert (doc.date, doc.title) == ("2025-10-21", "Tiêu đề bài")
    assert [c.start_line for c in chunk_document(doc)] == [3]


def test_long_line_is_windowed_but_keeps_its_line_number():
    long = " ".join(["thượng đỉnh"] * 1000)
    chunks = chunk_document(parse_document("a.txt", f"x\n{long}\n".encode()))
    windows = [c for c in chunks if c.start_line == 2]
    assert len(windows) > 1 and all(len(c.text) <= MAX_CHARS for c in windows)
    assert all(c.end_line == 2 for c in windows)


def test_boilerplate_tail_and_repeated_lines_are_not_indexed(seeds_copy):
    corpus = read_corpus(seeds_copy)
    doc = next(d for d in corpus.documents if d.path.startswith("004"))
    assert doc.boilerplate_from == 38  # "Bình luận": comment box and related-news list follow
    chunks = chunk_document(doc)
    assert max(c.end_line for c in chunks) < 38
    texts = [c.text for c in chunks]
    assert len(texts) == len(set(texts))  # the title repeated on line 3 and 6 is indexed once
    doc3 = next(d for d in corpus.documents if d.path.startswith("003"))
    assert doc3.boilerplate_from == 38  # "MỚI - NÓNG"


@pytest.mark.parametrize(
    "data,reason",
    [(b"", "empty"), (b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 100, "binary"), (b"   \n\n", "empty")],
)
def test_unreadable_files_are_skipped_with_a_reason(tmp_path, data, reason):
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    got = read_file(p, "x.txt")
    assert isinstance(got, Skipped) and reason in got.reason


def test_corpus_errors_name_the_fix(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no readable"):
        read_corpus(tmp_path / "empty")


def test_symlink_outside_corpus_is_not_followed(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("bí mật")
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("bài báo")
    (corpus / "link.txt").symlink_to(outside)
    got = read_corpus(corpus)
    assert [d.path for d in got.documents] == ["ok.txt"]
    assert got.skipped[0].path == "link.txt" and "outside" in got.skipped[0].reason


def test_text_folding_and_tokens():
    assert fold("Thượng Đỉnh ấ ồ ợ") == "thuong dinh a o o"
    toks = keyword_tokens(VI)
    assert "thuong_dinh" in toks and "budapest" in toks and "~thượng" in toks
    assert keyword_tokens(unicodedata.normalize("NFD", VI)) == toks
    assert is_vietnamese(VI) and not is_vietnamese("Who proposed Budapest?")


@pytest.mark.parametrize(
    "tail,signed",
    [
        ("Thúy Hà\n\nNguồn: Tass, Reuters\n", True),  # seed 000
        ("THẢO VY\n\nNguồn PLO: https://plo.vn/x.html\n", True),  # seed 002
        ("Theo Theo RIA Novosti\n", False),  # a source credit, not a byline
        ("Phần II\n", False),
        ("Thể Công\n70\n16\n", False),  # a table row, not the last line
        ("Ông Putin nói vậy.\n", False),
    ],
)
def test_a_byline_is_indexed_as_the_author_of_the_article(tail, signed):
    doc = parse_document("a.txt", (" date 2025-11-13 Rubio nói về hội nghị\n\nMột đoạn tin.\n\n" + tail).encode())
    by_line = {c.start_line: c.text for c in chunk_document(doc)}
    name = tail.split("\n")[0]
    if signed:
        assert by_line[5] == f"Tác giả bài báo «Rubio nói về hội nghị» là {name}."
    else:
        assert all(not t.startswith("Tác giả") for t in by_line.values())
