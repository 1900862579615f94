"""Rich Text for what the app shows: answers, citations, sources, the status line, the copied answer.

Pure functions. Article and model text always goes through `clean` and into `Text` objects,
never into markup, so neither escape sequences nor `[tags]` in it can change the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from rag.reasons import Reason
from rag.terminal import safe
from rag.text import nfc
from rag.verify.cite import NUMBER_MARKER as _MARKER

MARKER_STYLE = "bold underline"

# What a refusal means, in plain words (Answer.reason -> sentence).
REASONS = {
    Reason.WEAK_EVIDENCE: "Nothing in the articles is close enough to this question.",
    Reason.UNKNOWN_NAME: "The question names someone or something the articles never mention.",
    Reason.MODEL_NOT_FOUND: "The closest passages do not contain the answer.",
    Reason.UNSUPPORTED: "The model's answer was not backed by the articles, so it is not shown.",
    Reason.CANCELLED: "Cancelled.",
}


SUSPECT_MARK = "  ⚠ page holds lines addressed to AI assistants"


@dataclass(frozen=True, slots=True)
class Ref:
    """A place in an article the user can open: a verified citation, or (for a refusal) a source found."""

    file: str
    start_line: int
    end_line: int
    quote: str
    number: int  # the answer's [n]; 0 for a source that is not a citation
    cited: bool = True
    suspect: bool = False  # its page also holds lines addressed to AI assistants (rag/verify/guard.py)

    @property
    def ref(self) -> str:
        span = str(self.start_line) if self.start_line == self.end_line else f"{self.start_line}-{self.end_line}"
        return f"{self.file}:{span}"


def clean(text: str) -> str:
    """Text from an article or the model, safe for the terminal: no escapes, NFC so diacritics stay one cell."""
    return nfc(safe(text or ""))


def refs_of(answer) -> list[Ref]:
    """The evidence of an answer: its verified citations only (dropped sentences never appear)."""
    return [Ref(c.file, c.line_start, c.line_end, c.quote, c.number, suspect=c.file in getattr(answer, "suspect", {})) for c in answer.citations]


def sources_of(answer, limit: int = 5) -> list[Ref]:
    """What retrieval found, shown when the app refuses; not evidence for anything."""
    return [Ref(h.file, h.start_line, h.end_line, h.text, 0, cited=False, suspect=h.file in getattr(answer, "suspect", {})) for h in answer.sources[:limit]]


def answer_text(text: str) -> Text:
    """The verified answer with its [n] markers set off."""
    out = Text()
    pos = 0
    text = clean(text)
    for m in _MARKER.finditer(text):
        out.append(text[pos : m.start()])
        out.append(m.group(0), style=MARKER_STYLE)
        pos = m.end()
    out.append(text[pos:])
    return out


def draft_text(draft: str) -> Text:
    """The answer as it streams in: dim, because verification may still change it."""
    return Text(clean(draft) or "…", style="dim")


def refusal_text(answer) -> Text:
    out = Text(clean(answer.answer), style="bold")
    reason = REASONS.get(answer.reason, "")
    if reason and answer.reason != Reason.CANCELLED:
        out.append("\n" + reason, style="italic")
    if answer.sources and answer.reason != Reason.CANCELLED:
        out.append("\nWhat it found instead is listed under Sources.", style="italic dim")
    return out


def chip_text(ref: Ref) -> Text:
    """A citation under its answer: "[n] file:line", always written out, so an earlier answer in
    the transcript still shows what it rests on."""
    label = f"[{ref.number}]" if ref.number else "[·]"
    return Text(label, style=MARKER_STYLE).append(" " + clean(ref.ref))


def item_text(number: int, line: str, refs: list[Ref]) -> Text:
    """One item of a list answer: its line of the answer (markers set off), then each citation's file:line."""
    out = Text(f"{number}. ", style="bold")
    body = _MARKER.sub("", line).rstrip()
    out.append(clean(body))
    for ref in refs:
        out.append(" ")
        out.append_text(chip_text(ref))
    return out


def ref_item_text(ref: Ref, width: int = 200) -> Text:
    """One row of the evidence pane: marker, file:line, then the quoted line."""
    quote = clean(ref.quote)
    if len(quote) > width:
        quote = quote[: width - 1] + "…"
    head = f"[{ref.number}] " if ref.number else ""
    out = Text(head, style=MARKER_STYLE)
    out.append(clean(ref.ref), style="bold")
    if ref.suspect:
        out.append(SUSPECT_MARK, style="bold yellow")
    out.append("\n“" + quote + "”" if ref.cited else "\n" + quote)
    return out


def line_text(number: int, line: str, gutter: int) -> Text:
    out = Text(f"{number:>{gutter}} ", style="dim")
    out.append(clean(line))
    return out


def copy_text(answer) -> str:
    """The answer as Markdown with [file:line] citations and the quoted lines, for the clipboard
    (the same text as `rag ask --markdown`)."""
    from rag.terminal import markdown

    return markdown(answer)


def corpus_text(manifest: dict, embedder: str, llm: str) -> str:
    docs, chunks = manifest.get("n_docs", 0), manifest.get("n_chunks", 0)
    return f"{docs:,} articles · {chunks:,} chunks · {embedder} · {llm}"


def freshness_text(stale: dict[str, list[str]] | None, reindexing: bool, key: str) -> tuple[str, bool]:
    """The index's state in a few words, and whether it is out of date."""
    if reindexing:
        return "re-indexing…", False
    if stale is None:
        return "index: checking…", False
    parts = [f"{len(stale[k])} {k}" for k in ("added", "changed", "removed") if stale.get(k)]
    if not parts:
        return "index: up to date", False
    return f"index: {', '.join(parts)} · {key} re-index", True
