"""Line-aligned chunks: one paragraph line per chunk, long lines split into windows of one line.

Every chunk knows its file, 1-based inclusive start_line/end_line, and a content hash, so a
citation can always name the exact line. Empty lines, repeated lines and page boilerplate
are left out of the index (they would crowd out the article in retrieval).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rag.corpus.ingest import Document

MAX_CHARS = 1200  # a window of a long line; ~300 tokens, within both embedders' limits
# Recorded in the index manifest: when it differs, every file is chunked again on the next
# `rag index` (chunks whose text is unchanged keep their vectors).
CHUNKING = {"unit": "line", "max_chars": MAX_CHARS, "boilerplate": "tail-headings", "dedupe": True, "byline": "author-sentence"}


@dataclass(frozen=True, slots=True)
class Chunk:
    file: str
    start_line: int
    end_line: int
    text: str
    hash: str  # sha1 of text and the context it is embedded with
    part: int = 0  # window number inside one long line

    @property
    def ref(self) -> str:
        span = str(self.start_line) if self.start_line == self.end_line else f"{self.start_line}-{self.end_line}"
        return f"{self.file}:{span}"


def _windows(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + max_chars)
        if end < len(text):  # cut at a space so a syllable is never split
            cut = text.rfind(" ", start + max_chars // 2, end)
            end = cut if cut > start else end
        out.append(text[start:end].strip())
        start = end
    return [w for w in out if w]


_SERIES = frozenset(["phần", "kỳ", "chương", "bài", "tập"])  # "Phần II" ends a part, it signs nothing
_CREDIT = ("theo ", "nguồn", "(theo", "ảnh:", "video:")  # lines after a byline that credit sources


def byline(doc: Document) -> int:
    """The line of the article's byline: the last line of the body, or the last before its source
    credits ("Nguồn: Tass, Reuters"), when it is a name alone: 2-4 capitalised words of letters
    ("Thúy Hà", "THẢO VY"). 0 when there is none."""
    last = doc.boilerplate_from - 1 if doc.boilerplate_from else len(doc.lines)
    for i in range(last, 0, -1):
        text = doc.line(i).strip()
        if not text or text.lower().startswith(_CREDIT):
            continue
        ws = text.split()
        name = 2 <= len(ws) <= 4 and len(text) <= 30 and all(w[0].isupper() and w.isalpha() for w in ws)
        return i if name and ws[0].lower() not in _SERIES else 0
    return 0


AUTHOR = "Tác giả bài báo"  # how an indexed byline starts


def author_text(doc: Document, name: str) -> str:
    """How a byline is indexed and shown to the model: a bare name says nothing about authorship.
    A plain sentence, because the model copies its wording into the answer."""
    return f"{AUTHOR} «{doc.title}» là {name}." if doc.title else f"{AUTHOR} là {name}."


def chunk_document(doc: Document, max_chars: int = MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: set[str] = set()
    last = doc.boilerplate_from - 1 if doc.boilerplate_from else len(doc.lines)
    signed = byline(doc)
    for i, raw in enumerate(doc.lines[:last], start=1):
        text = raw.strip()
        if not text or (i == 1 and doc.date):  # the date header is metadata, not content
            continue
        if i == signed:
            text = author_text(doc, text)
        key = " ".join(text.split()).lower()
        if key in seen:  # captions and titles repeated on the page
            continue
        seen.add(key)
        for part, window in enumerate(_windows(text, max_chars)):
            digest = hashlib.sha1(f"{doc.title}\x1f{window}".encode()).hexdigest()
            chunks.append(Chunk(doc.path, i, i, window, digest, part))
    return chunks
