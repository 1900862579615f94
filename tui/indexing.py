"""Noticing corpus changes and re-indexing in the background: the part of ChatApp that watches the index.

Answers keep using the index they started with; a new index is swapped in between answers.
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from rag.errors import RagError
from rag.store.index import index_freshness
from tui import jobs
from tui.text import freshness_text

REINDEX_KEY = "ctrl+r"


class IndexWatch:
    """Mixed into ChatApp (which provides pipeline, settings, status, busy, running, notify, error)."""

    def check_freshness(self) -> None:
        if self.pipeline is not None and not self.reindexing:
            self.freshness_worker(self.pipeline.index)

    @work(thread=True, group="fresh", exclusive=True, exit_on_error=False)
    def freshness_worker(self, index) -> None:
        corpus = Path(self.settings.corpus)
        signature = jobs.corpus_signature(corpus)
        if signature == self._signature:
            return
        try:
            stale = index_freshness(corpus, index)
        except (RagError, OSError) as e:
            self.call_from_thread(self.status.set_freshness, f"index: cannot check ({e})", True)
            return
        self.call_from_thread(self._freshness_known, stale, signature)

    def _freshness_known(self, stale: dict[str, list[str]], signature: tuple) -> None:
        if self.reindexing:
            return
        self._signature, self.stale = signature, stale
        self.status.set_freshness(*freshness_text(stale, False, REINDEX_KEY))
        changed = tuple(f for k in ("added", "changed", "removed") for f in stale[k])
        if changed and changed != self._offered:
            what = ", ".join(f"{len(stale[k])} {k}" for k in ("added", "changed", "removed") if stale[k])
            self.notify(
                f"The corpus folder changed ({what}). Press {REINDEX_KEY} to re-index; answers use the current index until the new one is ready.",
                title="Articles changed",
                timeout=15,
                markup=False,
            )
        self._offered = changed

    def action_reindex(self) -> None:
        if self.reindexing or self.loading:
            self.notify("Already loading or indexing; wait for it to finish.")
            return
        if self.pipeline is None:
            self.start_loading(force_build=True)
            return
        self.reindexing = True
        self.status.set_freshness(*freshness_text(self.stale, True, REINDEX_KEY))
        self.busy.start("Re-indexing…")
        self.reindex_worker()

    @work(thread=True, group="index", exit_on_error=False)
    def reindex_worker(self) -> None:
        def progress(label: str, done: int, total: int) -> None:
            self.call_from_thread(self.busy.progress, label, done, total)

        try:
            report, index = jobs.build(self.settings, self.pipeline.embedder, progress)
        except RagError as e:
            self.call_from_thread(self._reindexed, None, str(e))
            return
        except Exception as e:  # noqa: BLE001 -- a worker is an edge: report anything, keep the app alive
            self.call_from_thread(self._reindexed, None, f"Re-indexing failed ({type(e).__name__}: {e}).")
            return
        what = f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed"
        if report.resumed_chunks:
            what += f"; {report.resumed_chunks} chunks kept from an interrupted run"
        self.call_from_thread(self._reindexed, index, what)

    def _reindexed(self, index, message: str) -> None:
        self.reindexing = False
        self.busy.stop()
        self._signature = None
        if index is None:
            self.error(message, "Re-index failed")
        else:
            later = self.running() is not None
            self._pending_index = index
            if not later:
                self._swap(index)
            self.notify(f"Re-indexed ({message}). " + ("The next question" if later else "Questions now") + " use the new index.")
        self.check_freshness()

    def _swap(self, index) -> None:
        # Never mid-answer: the pipeline reads its index at several points while answering.
        self._pending_index = None
        self.pipeline.swap_index(index)
        self.stale, self._signature, self._offered = None, None, ()
        self._show_index()
        self.check_freshness()
