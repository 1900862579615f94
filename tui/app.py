"""The chat app: `make_app` builds it for the CLI and the tests; `run_chat` runs it.

Models load, answers generate and the index rebuilds in thread workers; tokens and results
come back through `call_from_thread`, so the screen never freezes.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, ListView

from rag.answer.pipeline import Answer, Pipeline
from rag.config import Settings
from rag.errors import RagError
from rag.reasons import Reason
from tui import jobs
from tui.indexing import REINDEX_KEY, IndexWatch
from tui.screens import ArticleScreen, HelpScreen, help_rows
from tui.text import Ref, clean, copy_text, corpus_text, freshness_text
from tui.widgets import BusyBar, ChatInput, CitationChip, EvidencePane, Exchange, ExchangeView, StatusBar

CHAT_ONLY = {"new_conversation", "open_article", "jump_citation", "copy_answer", "scroll_chat"}


class ChatApp(IndexWatch, App):
    CSS_PATH = "app.tcss"
    TITLE = "rag"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Stop the answer being written"),
        Binding("ctrl+n", "new_conversation", "New chat", tooltip="Start a new conversation (forgets the context)"),
        Binding("ctrl+o", "open_article", "Article", tooltip="Open the article of the current citation"),
        Binding(REINDEX_KEY, "reindex", "Re-index", tooltip="Re-index the corpus folder in the background"),
        Binding("f1", "help", "Help", tooltip="This help"),
        Binding("ctrl+down", "jump_citation(1)", "Next citation", show=False),
        Binding("ctrl+up", "jump_citation(-1)", "Previous citation", show=False),
        Binding("ctrl+y", "copy_answer", "Copy answer", show=False, tooltip="Copy the answer with [file:line] citations"),
        Binding("pageup", "scroll_chat(-1)", "Scroll the chat up", show=False),
        Binding("pagedown", "scroll_chat(1)", "Scroll the chat down", show=False),
    ]

    def __init__(
        self, settings: Settings, pipeline: Pipeline | None = None, generator=None, poll_s: float = 3.0, warm: bool = True
    ):
        super().__init__()
        self.settings = settings
        self.pipeline = pipeline
        self.generator = generator
        self.poll_s = poll_s
        self.warm = warm
        self.history: list[tuple[str, str]] = []  # (question, answer with [file:line]) of answered questions
        self.selected: ExchangeView | None = None
        self.stale: dict[str, list[str]] | None = None
        self.loading = False
        self.reindexing = False
        self._offered: tuple = ()
        self._signature: tuple | None = None
        self._pending_index = None  # a new index waiting for the running answer to finish
        self._model_lock = threading.Lock()  # warm-up and answers take turns on the LLM

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield VerticalScroll(id="chat")
                yield ChatInput(placeholder="Loading…", id="question")
            yield EvidencePane(id="evidence")
        yield BusyBar(id="busy")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def chat(self) -> VerticalScroll:
        return self.query_one("#chat", VerticalScroll)

    @property
    def evidence(self) -> EvidencePane:
        return self.query_one(EvidencePane)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def busy(self) -> BusyBar:
        return self.query_one(BusyBar)

    @property
    def views(self) -> list[ExchangeView]:
        return list(self.chat.query(ExchangeView))

    def on_mount(self) -> None:
        self.query_one(ChatInput).focus()
        if self.pipeline is None:
            self.start_loading()
        else:
            self._pipeline_ready(self.pipeline)
        self.set_interval(self.poll_s, self.check_freshness)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Over the article viewer or help, keys that act on the chat are off (and out of the footer).
        return action not in CHAT_ONLY or self.screen is self.screen_stack[0]

    def error(self, message: str, title: str = "Error") -> None:
        self.notify(clean(message), title=title, severity="error", timeout=12, markup=False)

    # ------------------------------------------------------------ loading

    def start_loading(self, force_build: bool = False) -> None:
        self.loading = True
        self.busy.start("Loading the index…")
        self.load_worker(force_build)

    @work(thread=True, group="load", exit_on_error=False)
    def load_worker(self, force_build: bool) -> None:
        def progress(label: str, done: int, total: int) -> None:
            self.call_from_thread(self.busy.progress if total else self.busy.start, label, *((done, total) if total else ()))

        try:
            pipeline = jobs.load_pipeline(
                self.settings, self.generator, progress, lambda m: self.notify(m, markup=False), force_build
            )
        except RagError as e:
            self.call_from_thread(self._load_failed, f"{e} Or press {REINDEX_KEY} to (re)build it here.")
            return
        except Exception as e:  # noqa: BLE001 -- a worker is an edge: report anything, keep the app alive
            self.call_from_thread(self._load_failed, f"Could not load ({type(e).__name__}: {e}).")
            return
        self.call_from_thread(self._pipeline_ready, pipeline)

    def _load_failed(self, message: str) -> None:
        self.loading = False
        self.busy.stop()
        self.status.set_corpus("not ready")
        self.status.set_freshness(f"index unusable · {REINDEX_KEY} rebuild", True)
        self.query_one(ChatInput).placeholder = "Not ready: see the error"
        self.error(message, "Could not load")

    def _pipeline_ready(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.loading = False
        self.busy.stop()
        self.query_one(ChatInput).placeholder = "Ask a question (F1: help)"
        self._show_index()
        if self.warm:
            self.busy.start("Loading the LLM…")
            self.warm_worker()
        self.check_freshness()

    @work(thread=True, group="warm", exit_on_error=False)
    def warm_worker(self) -> None:
        try:
            with self._model_lock:
                jobs.warm_up(self.pipeline)
        except RagError as e:
            self.call_from_thread(self.error, str(e), "Model")
        except Exception as e:  # noqa: BLE001 -- see load_worker
            self.call_from_thread(self.error, f"Could not load the LLM ({type(e).__name__}: {e}).", "Model")
        self.call_from_thread(self._warm_done)

    def _warm_done(self) -> None:
        if not self.reindexing:
            self.busy.stop()
        self._show_index()

    def _show_index(self) -> None:
        p = self.pipeline
        self.status.set_corpus(corpus_text(p.index.manifest, p.embedder.name, jobs.llm_name(p)))
        self.status.set_freshness(*freshness_text(self.stale, self.reindexing, REINDEX_KEY))

    # ------------------------------------------------------------ asking

    @on(ChatInput.Submitted)
    async def send(self, event: ChatInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        if self.pipeline is None:
            self.notify(
                "Still loading; ask again in a moment." if self.loading else f"Not ready: press {REINDEX_KEY} to build the index."
            )
            return
        if self.running() is not None:
            self.notify("Still answering the last question: Esc cancels it.", severity="warning")
            return
        event.input.value = ""
        view = ExchangeView(Exchange(question, index=self.pipeline.index))
        await self.chat.mount(view)
        self.chat.anchor()
        await self.select(view)
        self.answer_worker(view, list(self.history))

    def running(self) -> ExchangeView | None:
        return next((v for v in self.views if v.exchange.running), None)

    @work(thread=True, group="answer", exit_on_error=False)
    def answer_worker(self, view: ExchangeView, history: list[tuple[str, str]]) -> None:
        ex = view.exchange
        try:
            with self._model_lock:
                if ex.cancel.is_set():  # cancelled while the LLM was still loading
                    ans = Answer(ex.question, "", True, [], [], {}, reason=Reason.CANCELLED, cancelled=True)
                else:
                    ans = self.pipeline.ask(
                        ex.question,
                        history=history,
                        on_token=lambda t: self.call_from_thread(view.add_token, t),
                        cancel=ex.cancel,
                    )
        except RagError as e:
            self.call_from_thread(self._answered, view, None, str(e))
            return
        except Exception as e:  # noqa: BLE001 -- see load_worker
            self.call_from_thread(self._answered, view, None, f"Unexpected {type(e).__name__}: {e}")
            return
        self.call_from_thread(self._answered, view, ans, "")

    async def _answered(self, view: ExchangeView, ans: Answer | None, error: str) -> None:
        if ans is None:
            view.fail(error)
            self.error(error)
        else:
            view.finish(ans)
            if view.is_attached and not ans.refused:
                self.history.append((ans.question, ans.inline()))
        if self._pending_index is not None:
            self._swap(self._pending_index)
        if view is self.selected:
            await self.select(view)

    def action_cancel(self) -> None:
        view = self.running()
        if view is None:
            self.query_one(ChatInput).focus()
            return
        view.exchange.cancel.set()
        view.query_one(".note").update(Text("Cancelling…", style="dim"))

    # ------------------------------------------------------------ selection and citations

    async def select(self, view: ExchangeView | None) -> None:
        if self.selected is not None and self.selected is not view and self.selected.is_attached:
            self.selected.remove_class("-selected")
            self.selected.set_current(None)
        self.selected = view
        if view is not None:
            view.add_class("-selected")
        await self.evidence.show(view.exchange if view else None)
        if view is not None and view.current is not None:
            self.evidence.highlight(view.current)

    @on(ExchangeView.Picked)
    async def picked(self, event: ExchangeView.Picked) -> None:
        if event.view is not self.selected:
            await self.select(event.view)

    @on(CitationChip.Chosen)
    async def chip_chosen(self, event: CitationChip.Chosen) -> None:
        view = next(a for a in event.chip.ancestors if isinstance(a, ExchangeView))
        await self.set_citation(view, event.chip.position)
        if event.open_article:
            self.open_ref(view.exchange, event.chip.ref)

    async def set_citation(self, view: ExchangeView, position: int) -> None:
        if view is not self.selected:
            await self.select(view)
        view.set_current(position)
        self.evidence.highlight(position)
        self.chat.scroll_to_widget(view, animate=False)

    @on(ListView.Highlighted, "#evidence-list")
    def evidence_highlighted(self, event: ListView.Highlighted) -> None:
        item = event.item
        if item is not None and self.selected is not None and item.ref.cited:
            self.selected.set_current(event.list_view.index)

    @on(ListView.Selected, "#evidence-list")
    def evidence_selected(self, event: ListView.Selected) -> None:
        if self.selected is not None:
            self.open_ref(self.selected.exchange, event.item.ref)

    async def action_jump_citation(self, step: int) -> None:
        flat = [(v, i) for v in self.views for i in range(len(v.exchange.refs))]
        if not flat:
            self.notify("No citations yet.")
            return
        sel = self.selected
        if sel is not None and (sel, sel.current) in flat:
            pos = (flat.index((sel, sel.current)) + step) % len(flat)
        else:
            mine = [k for k, (v, _) in enumerate(flat) if v is sel]
            pos = (mine[0] if step > 0 else mine[-1]) if mine else (0 if step > 0 else len(flat) - 1)
        await self.set_citation(*flat[pos])

    def action_open_article(self) -> None:
        item = self.evidence.list.highlighted_child
        if item is None or self.selected is None:
            self.notify("No citation selected: ask a question, then pick a [n].")
            return
        self.open_ref(self.selected.exchange, item.ref)

    def open_ref(self, exchange: Exchange, ref: Ref) -> None:
        index = exchange.index or self.pipeline.index
        doc = index.docs.get(ref.file)
        if doc is None:
            self.error(f"{ref.file} is not in the index any more. Ask again to cite the current articles.")
            return
        self.push_screen(ArticleScreen(doc, ref))

    # ------------------------------------------------------------ conversation

    async def action_new_conversation(self) -> None:
        view = self.running()
        if view is not None:
            view.exchange.cancel.set()
        self.history.clear()
        await self.chat.remove_children()
        await self.select(None)
        self.query_one(ChatInput).focus()
        self.notify("New conversation.")

    def action_copy_answer(self) -> None:
        done = [v for v in self.views if v.exchange.answer is not None and not v.exchange.answer.cancelled]
        view = self.selected if self.selected in done else (done[-1] if done else None)
        if view is None:
            self.notify("No answer to copy yet.")
            return
        self.copy_to_clipboard(copy_text(view.exchange.answer))
        self.notify(f"Copied the answer with {len(view.exchange.refs)} citation(s).")

    def action_scroll_chat(self, direction: int) -> None:
        (self.chat.scroll_page_down if direction > 0 else self.chat.scroll_page_up)(animate=False)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_rows(self.BINDINGS)))


def make_app(
    pipeline: Pipeline | None = None, settings: Settings | None = None, *, generator=None, poll_s: float = 3.0, warm: bool = True
) -> ChatApp:
    """The chat app around a ready pipeline, or one that loads (and if need be builds) it in a worker."""
    if settings is None:
        settings = pipeline.settings if pipeline is not None else Settings()
    return ChatApp(settings, pipeline, generator=generator, poll_s=poll_s, warm=warm)


def run_chat(settings: Settings) -> None:
    exit_when_the_terminal_goes()
    make_app(settings=settings).run()


def exit_when_the_terminal_goes(every_s: float = 1.0) -> bool:
    """End the process when its terminal goes away (a closed window, a killed tmux): a chat whose
    tmux server was killed kept running, spinning at ~85% of a core, with no SIGHUP reaching it.
    On SIGHUP, or once the terminal answers EIO, it exits at once with status 129: nothing is lost,
    since the index on disk only ever changes by an atomic switch. False when stdin is no terminal."""
    import os
    import signal
    import sys

    try:
        fd = sys.__stdin__.fileno()
        os.tcgetpgrp(fd)
    except (AttributeError, OSError, ValueError):
        return False

    def gone(*_) -> None:
        os._exit(129)

    def watch() -> None:
        while True:
            time.sleep(every_s)
            try:
                os.tcgetpgrp(fd)
            except OSError:
                gone()

    signal.signal(signal.SIGHUP, gone)
    threading.Thread(target=watch, name="terminal-watch", daemon=True).start()
    return True
