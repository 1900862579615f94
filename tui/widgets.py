"""The chat app's widgets: one question-and-answer exchange, citation chips, the evidence pane, the bars.

Widgets show state and post messages; the app decides what happens (workers, screens).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, ListItem, ListView, ProgressBar, Static

from rag.reasons import Reason
from rag.terminal import QUOTED_NOTE
from tui.text import Ref, answer_text, chip_text, clean, draft_text, item_text, ref_item_text, refs_of, refusal_text, sources_of


@dataclass(eq=False)
class Exchange:
    """One question and its answer; `index` is the index it was answered from (line numbers refer to it)."""

    question: str
    index: object = None  # rag.store.index.LoadedIndex
    answer: object = None  # rag.answer.pipeline.Answer
    draft: str = ""
    state: str = "waiting"  # waiting | streaming | done | refused | cancelled | error
    error: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def refs(self) -> list[Ref]:
        return refs_of(self.answer) if self.answer is not None else []

    @property
    def running(self) -> bool:
        return self.state in ("waiting", "streaming")


class ChatInput(Input):
    """The question box. `?` on an empty box opens help (no question starts with one)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "?" and not self.value:
            event.stop()
            event.prevent_default()
            await self.run_action("app.help")


class CitationChip(Static, can_focus=True):
    """A citation "[n] file:line" under its answer; focus shows its line in the evidence pane,
    enter or a click opens the article there."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Open article", show=False)]

    class Chosen(Message):
        def __init__(self, chip: CitationChip, open_article: bool) -> None:
            super().__init__()
            self.chip = chip
            self.open_article = open_article

    def __init__(self, ref: Ref, position: int, label: Text | None = None, classes: str = "chip") -> None:
        super().__init__(label if label is not None else chip_text(ref), classes=classes)
        self.ref = ref
        self.position = position
        self.tooltip = Text(clean(ref.ref))

    def set_current(self, current: bool) -> None:
        self.set_class(current, "-current")

    def watch_has_focus(self, has_focus: bool) -> None:
        super().watch_has_focus(has_focus)
        if has_focus:
            self.post_message(self.Chosen(self, open_article=False))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Chosen(self, open_article=True))

    def action_choose(self) -> None:
        self.post_message(self.Chosen(self, open_article=True))


class ExchangeView(Vertical):
    """A question, its streaming-then-verified answer, and a row of citation chips."""

    class Picked(Message):
        def __init__(self, view: ExchangeView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(classes="exchange")
        self.exchange = exchange
        self.current: int | None = None  # position of the current citation

    def compose(self) -> ComposeResult:
        yield Static(Text("› ", style="bold").append(clean(self.exchange.question)), classes="question")
        yield Static(draft_text(""), classes="body")
        yield Vertical(classes="chips")
        yield Static("", classes="note")

    @property
    def body(self) -> Static:
        return self.query_one(".body", Static)

    @property
    def chips(self) -> list[CitationChip]:
        return list(self.query(CitationChip))

    def add_token(self, token: str) -> None:
        self.exchange.draft += token
        self.exchange.state = "streaming"
        self.body.update(draft_text(self.exchange.draft))

    def finish(self, answer) -> None:
        ex = self.exchange
        ex.answer = answer
        if answer.cancelled:
            ex.state = "cancelled"
            self.body.update(Text(clean(ex.draft), style="dim strike") if ex.draft else Text(""))
            self._note(Text("Cancelled.", style="bold"))
            return
        ex.state = "refused" if answer.refused else "done"
        if answer.items:  # a list: one row an item, each opening the article at its (first) line
            refs, rows, at = ex.refs, [], 0
            lines = answer.answer.split("\n")
            self.body.update(answer_text(lines[0]))
            for n, (item, line) in enumerate(zip(answer.items, lines[1:]), 1):
                mine = refs[at : at + len(item.citations)]
                rows.append(CitationChip(mine[0], at, item_text(n, line.split(" ", 1)[-1], mine), classes="chip item"))
                at += len(item.citations)
            self.query_one(".chips", Vertical).mount_all(rows)
        elif answer.citations:  # a refusal may still quote what the articles do say
            self.body.update(answer_text(answer.answer))
            self.query_one(".chips", Vertical).mount_all(CitationChip(r, i) for i, r in enumerate(ex.refs))
        else:
            self.body.update(refusal_text(answer))
        t = answer.timings_ms
        note = f"{t.get('first_token', 0) / 1000:.1f} s to first token, {t.get('total', 0) / 1000:.1f} s total"
        if answer.reason == Reason.PARTIAL and answer.dropped_by:
            note = f"the model's answer was withheld: its lines do not answer the question ({answer.dropped_by[0]}) · " + note
        elif answer.dropped:
            note = f"{len(answer.dropped)} unsupported sentence(s) removed · " + note
        if answer.reason == Reason.QUOTED:
            note = QUOTED_NOTE + " · " + note
        if answer.warning:
            self._note(Text(clean(answer.warning), style="bold yellow") + Text("\n" + note, style="dim"))
            return
        self._note(Text(note, style="dim"))

    def fail(self, message: str) -> None:
        self.exchange.state = "error"
        self.exchange.error = message
        self.body.update(Text(clean(self.exchange.draft), style="dim"))
        self._note(Text("Error: " + clean(message), style="bold red"))

    def _note(self, text: Text) -> None:
        self.query_one(".note", Static).update(text)

    def set_current(self, position: int | None) -> None:
        self.current = position
        for chip in self.chips:
            chip.set_current(chip.position == position)

    def on_click(self) -> None:
        self.post_message(self.Picked(self))


class RefItem(ListItem):
    def __init__(self, ref: Ref) -> None:
        super().__init__(Static(ref_item_text(ref)), classes="ref" if ref.cited else "ref -source")
        self.ref = ref


class EvidencePane(Vertical):
    """The selected answer's verified citations (or, for a refusal, what retrieval found)."""

    def compose(self) -> ComposeResult:
        yield Label("Evidence", id="evidence-title")
        yield ListView(id="evidence-list")
        yield Static(Text("Ask a question; the lines that support the answer appear here.", style="dim"), id="evidence-hint")

    @property
    def list(self) -> ListView:
        return self.query_one(ListView)

    @property
    def refs(self) -> list[Ref]:
        return [item.ref for item in self.list.query(RefItem)]

    async def show(self, exchange: Exchange | None) -> None:
        title, hint, refs = "Evidence", "", []
        if exchange is None:
            hint = "Ask a question; the lines that support the answer appear here."
        elif exchange.running:
            hint = "Answering…"
        elif exchange.state == "error":
            hint = "No answer: see the error."
        elif exchange.state == "cancelled":
            hint = "Cancelled: no evidence."
        elif exchange.refs:
            refs = exchange.refs
            title = f"Evidence ({len(refs)})"
        else:  # refused with nothing to quote: show what retrieval found, marked as not evidence
            refs = sources_of(exchange.answer)
            title = "Sources found (they do not answer it)"
            hint = "" if refs else "Nothing related was found."
        self.query_one("#evidence-title", Label).update(Text(title))
        self.query_one("#evidence-hint", Static).update(Text(hint, style="dim"))
        self.query_one("#evidence-hint").display = bool(hint)
        await self.list.clear()
        if refs:
            await self.list.extend(RefItem(r) for r in refs)
            self.list.index = 0

    def highlight(self, position: int | None) -> None:
        if position is not None and 0 <= position < len(self.list):
            self.list.index = position


class StatusBar(Horizontal):
    """Corpus size, model names, and whether the index is up to date."""

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="status-corpus")
        yield Static("", id="status-fresh")

    def set_corpus(self, text: str) -> None:
        self.query_one("#status-corpus", Static).update(Text(clean(text)))

    def set_freshness(self, text: str, stale: bool) -> None:
        fresh = self.query_one("#status-fresh", Static)
        fresh.update(Text(clean(text)))
        fresh.set_class(stale, "-stale")


class BusyBar(Horizontal):
    """What is running in the background (loading models, indexing), with a progress bar."""

    def compose(self) -> ComposeResult:
        yield Label("", id="busy-label")
        yield ProgressBar(total=None, show_eta=False, id="busy-progress")

    def start(self, label: str, total: int | None = None) -> None:
        self.query_one("#busy-label", Label).update(Text(label))
        self.query_one(ProgressBar).update(total=total, progress=0)
        self.add_class("-active")

    def progress(self, label: str, done: int, total: int) -> None:
        self.query_one("#busy-label", Label).update(Text(label))
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.add_class("-active")

    def stop(self) -> None:
        self.remove_class("-active")
