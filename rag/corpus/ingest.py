"""Read a corpus folder into Documents: decode (UTF-8/16, BOM, Windows-1258), NFC, keep 1-based lines.

Also finds the " date YYYY-MM-DD title" header and the page boilerplate at an article's end
(comment boxes, "related news" lists), which chunking leaves out of the index.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import CorpusError
from rag.text import fold, nfc

MAX_FILE_MB = 8.0  # past this a file is skipped, not read: 8 MB of text is ~7,000 chunks, an hour of real embedding
SUFFIXES = (".txt",)


@dataclass(frozen=True, slots=True)
class Document:
    """One article. `lines[i]` is line i+1 of the file, NFC, without its line ending."""

    path: str  # relative to the corpus folder, with forward slashes
    lines: tuple[str, ...]
    sha256: str  # of the raw bytes
    title: str = ""
    date: str = ""
    encoding: str = "utf-8"
    boilerplate_from: int = 0  # first 1-based line of trailing page boilerplate; 0 = none
    size: int = 0  # bytes, and modification time, as seen just before reading: lets a later
    mtime_ns: int = 0  # freshness check skip hashing files whose stat has not changed

    def line(self, n: int) -> str:
        return self.lines[n - 1]


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(slots=True)
class Corpus:
    root: Path
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*)$")


def is_header(line: str) -> bool:
    """An article's dated header line (" date 2025-10-21 <title> ..."): when it was published."""
    return bool(_HEADER.match(line))


# Headings that open the non-article tail of a news page (folded, punctuation removed).
_BOILER_HEADINGS = frozenset(
    fold(h)
    for h in (
        "bình luận", "mới nóng", "tin liên quan", "cùng chuyên mục", "tin cùng chuyên mục",
        "bài xem nhiều", "đọc thêm", "xem thêm", "tin mới", "tin khác", "đáng chú ý",
        "nổi bật trang chủ", "có thể bạn quan tâm", "tin nổi bật", "related news",
        "0 bình luận đánh giá", "thông tin người gửi",
    )
)


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to text and the encoding used. Raises ValueError for binary data."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM shows as every other byte zero in ASCII-heavy text.
        even, odd = data[0:4096:2].count(0), data[1:4096:2].count(0)
        sample = min(len(data), 4096) // 2 or 1
        if odd / sample > 0.3 and even / sample < 0.05:
            return data.decode("utf-16-le"), "utf-16-le"
        if even / sample > 0.3 and odd / sample < 0.05:
            return data.decode("utf-16-be"), "utf-16-be"
        raise ValueError("binary file (NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1258", errors="strict") if _looks_cp1258(data) else None
    if text is None:
        raise ValueError("not UTF-8, UTF-16 or Windows-1258 text")
    return text, "cp1258"


def _looks_cp1258(data: bytes) -> bool:
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        return False
    # Real Vietnamese in cp1258 is mostly ASCII letters with some high bytes; binary is not.
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return printable / max(len(text), 1) > 0.97


def split_lines(text: str) -> list[str]:
    """Split on \\r\\n, \\n or \\r, as editors number lines. A final newline adds no line."""
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


MIN_ARTICLE_LINES = 8  # a tail heading only counts after this many non-empty lines of article


def _boilerplate_start(lines: list[str]) -> int:
    """1-based line where the page tail begins: a known heading after the article's body."""
    body = 0
    for i, line in enumerate(lines):
        if len(line) > 60 or body < MIN_ARTICLE_LINES:
            body += bool(line.strip())
            continue
        key = " ".join(re.sub(r"[^\w\s]", " ", fold(line)).split())
        if key in _BOILER_HEADINGS:
            return i + 1
    return 0


def parse_document(rel: str, data: bytes) -> Document:
    """Decode raw bytes into a Document (raises ValueError when the bytes are not text)."""
    text, encoding = decode(data)
    lines = [nfc(line).replace("\x00", "") for line in split_lines(text)]
    title, date = "", ""
    if lines:
        m = _HEADER.match(lines[0])
        if m:
            date, title = m.group(1), m.group(2).strip()
        else:
            title = next((ln.strip() for ln in lines if ln.strip()), "")[:200]
    return Document(
        path=rel,
        lines=tuple(lines),
        sha256=hashlib.sha256(data).hexdigest(),
        title=title,
        date=date,
        encoding=encoding,
        boilerplate_from=_boilerplate_start(lines),
    )


def list_files(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Every .txt file under root, sorted; symlinks are followed only when they stay inside root.

    Symlinked folders are never descended (no loops, no escapes); a looping or dangling file
    link is skipped with a reason, as is a name that is not valid UTF-8 (it could not be cited).
    """
    root_real = root.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                skipped.append(Skipped(rel.encode("utf-8", "replace").decode(), "file name is not valid UTF-8; rename the file"))
                continue
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python < 3.13
                    skipped.append(Skipped(rel, "broken or looping symlink"))
                    continue
                if not target.is_relative_to(root_real):
                    skipped.append(Skipped(rel, "symlink pointing outside the corpus folder"))
                    continue
            files.append(path)
    return files, skipped


def read_corpus(root: Path, max_file_mb: float = MAX_FILE_MB) -> Corpus:
    """Read every article under root. Unreadable files are skipped with a reason, never fatal."""
    if not root.is_dir():
        raise CorpusError(f"Corpus folder {root} does not exist. Create it and add .txt articles, or pass --corpus DIR.")
    files, skipped = list_files(root)
    corpus = Corpus(root=root, skipped=skipped)
    for path in files:
        rel = path.relative_to(root).as_posix()
        doc_or_skip = read_file(path, rel, max_file_mb)
        if isinstance(doc_or_skip, Skipped):
            corpus.skipped.append(doc_or_skip)
        else:
            corpus.documents.append(doc_or_skip)
    if not corpus.documents:
        why = f" ({len(corpus.skipped)} skipped: {corpus.skipped[0].reason})" if corpus.skipped else ""
        raise CorpusError(f"Corpus folder {root} holds no readable .txt article{why}. Add UTF-8 text files, one paragraph a line.")
    return corpus


def read_file(path: Path, rel: str, max_file_mb: float = MAX_FILE_MB) -> Document | Skipped:
    """One file as a Document, or Skipped with the reason. The stat is taken on the open file
    before reading, so a file rewritten during indexing looks changed to the next check."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # checked before open: opening a FIFO would block
            return Skipped(rel, "not a regular file")
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > max_file_mb * 1_000_000:
                return Skipped(
                    rel, f"{st.st_size / 1e6:.1f} MB, larger than max_file_mb = {max_file_mb:g} (raise it in rag.toml to index it)"
                )
            data = f.read()
    except OSError as e:
        return Skipped(rel, f"unreadable: {e.strerror or e}")
    if not data.strip():
        return Skipped(rel, "empty file")
    try:
        doc = parse_document(rel, data)
    except (ValueError, UnicodeDecodeError) as e:
        return Skipped(rel, str(e))
    return dataclasses.replace(doc, size=st.st_size, mtime_ns=st.st_mtime_ns)
