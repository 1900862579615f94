"""Text that reaches a terminal: neutralise escapes from articles and the model; format answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

from rag.reasons import Reason

# CSI/OSC/DCS sequences and every C0/C1 control except tab and newline.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_][^\x1b]*(?:\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]?")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """Printable text: escape sequences removed, other control characters shown as U+FFFD."""
    return CONTROLS.sub("\ufffd", _ESCAPES.sub("", text))


def display_path(corpus: Path, file: str) -> str:
    """How a citation names a file: the corpus folder as the user gave it, then the file (a file
    name is chosen by whoever wrote the corpus, so it is neutralised like article text)."""
    return safe((corpus / file).as_posix() if str(corpus) not in ("", ".") else file)


# Said beside an answer that quotes a line instead of the model's words (Answer.reason "quoted").
QUOTED_NOTE = "The model gave no answer the articles back, so the line closest to the question is quoted instead."


def stream_printer(out: TextIO):
    """A token callback that streams to a terminal (and does nothing when out is not one)."""
    tty = out.isatty()
    state = {"n": 0}

    def on_token(tok: str) -> None:
        if tty:
            if state["n"] == 0:
                out.write("\x1b[2m")  # the draft is dim: the verified answer follows
            out.write(safe(tok))
            out.flush()
        state["n"] += 1

    def streamed() -> bool:
        if tty and state["n"]:
            out.write("\x1b[0m\n\n")
        return tty and state["n"] > 0

    return on_token, streamed


def print_answer(ans, corpus: Path, out: TextIO, streamed: bool = False) -> None:
    text = ans.answer
    for c in sorted(ans.citations, key=lambda c: -c.number):
        text = text.replace(f"[{c.number}]", f"[{display_path(corpus, c.file)}:{c.ref.split(':')[-1]}]")
    out.write(safe(text) + "\n")
    if ans.citations:
        out.write("\nSources:\n")
        for c in ans.citations:
            flag = "  (page holds lines addressed to AI assistants)" if c.file in ans.suspect else ""
            out.write(f"  [{display_path(corpus, c.file)}:{c.ref.split(':')[-1]}] “{safe(c.quote)}”{flag}\n")
    elif ans.refused and ans.sources and ans.reason != Reason.WEAK_EVIDENCE:
        out.write("\nClosest lines found (they do not answer it):\n")
        out.writelines(f"  {display_path(corpus, h.file)}:{h.start_line}  {safe(h.text[:160])}\n" for h in ans.sources[:3])
    if ans.warning:
        out.write(f"\n{safe(ans.warning)}\n")
    if ans.reason == Reason.QUOTED:
        out.write(f"\n({QUOTED_NOTE})\n")
    if ans.dropped:
        out.write(f"\n({len(ans.dropped)} unsupported sentence(s) from the model were removed.)\n")
    t = ans.timings_ms
    out.write(f"\n[{t['retrieve']:.0f} ms retrieval, {t['first_token'] / 1000:.1f} s to first token, {t['total'] / 1000:.1f} s total]\n")


def markdown(ans, corpus: Path | None = None) -> str:
    """The answer as Markdown: the question, the answer with each [n] written out as
    [file:line] (a list answer stays a numbered list), then the quoted lines it cites."""
    where = (lambda c: f"{display_path(corpus, c.file)}:{c.ref.split(':')[-1]}") if corpus is not None else (lambda c: safe(c.ref))
    text = ans.answer
    for c in sorted(ans.citations, key=lambda c: -c.number):
        text = text.replace(f"[{c.number}]", f"[{where(c)}]")
    lead, _, rest = safe(text).partition("\n")
    out = [f"**{safe(ans.question)}**", "", lead + ("\n\n" + rest if rest else "")]
    if ans.citations:
        out += ["", "Sources:", ""]
        out += [f"- [{where(c)}] “{safe(c.quote)}”" for c in ans.citations]
    if ans.warning:
        out += ["", f"> {safe(ans.warning)}"]
    return "\n".join(out)
