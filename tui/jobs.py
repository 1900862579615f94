"""Background work for the chat app: loading the pipeline, (re)building the index, noticing corpus changes.

These run in worker threads and report through callbacks; they never touch widgets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from rag.answer.pipeline import Pipeline, qualifying_places
from rag.config import Settings
from rag.corpus.ingest import list_files
from rag.errors import IndexMissingError
from rag.models.embedding import SerialEmbedder
from rag.store.index import IndexReport, LoadedIndex, build_index, load_index

Progress = Callable[[str, int, int], None]  # (label, done, total)
Say = Callable[[str], None]

STAGES = {"read": "Reading articles", "embed": "Embedding"}


def throttled(progress: Progress, every_s: float = 0.1) -> Callable[[str, int, int], None]:
    """build_index's progress callback, passed on at most every `every_s` seconds (and at each stage's end)."""
    last = {"t": 0.0, "stage": ""}

    def on_progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == last["stage"] and done < total and now - last["t"] < every_s:
            return
        last["t"], last["stage"] = now, stage
        progress(f"{STAGES.get(stage, stage)} {done:,}/{total:,}", done, total)

    return on_progress


def build(settings: Settings, embedder, progress: Progress, rebuild: bool = False) -> tuple[IndexReport, LoadedIndex]:
    """Bring the index up to date with the corpus folder, then load the new generation."""
    report = build_index(
        Path(settings.corpus), Path(settings.index), embedder, rebuild=rebuild, progress=throttled(progress), max_file_mb=settings.max_file_mb
    )
    return report, load_index(Path(settings.index), embedder.name)


def load_pipeline(settings: Settings, generator, progress: Progress, say: Say, force_build: bool = False) -> Pipeline:
    """The index (built first when there is none) and the embedder; the LLM loads later (see warm_up)."""
    from rag.models.embedding import embedder_name, make_embedder

    index = None
    if not force_build:
        try:
            # Before the slow embedder load, so a mismatched or damaged index fails at once.
            index = load_index(Path(settings.index), embedder_name(settings.embedder))
        except IndexMissingError:
            say(f"No index at {settings.index}/ yet: building it from {settings.corpus}/ (once).")
    progress(f"Loading the {settings.embedder} embedder…", 0, 0)
    embedder = SerialEmbedder(make_embedder(settings.embedder, settings.gemma_path or None, settings.threads or None))
    if index is None:
        _, index = build(settings, embedder, progress)
    return Pipeline(settings, index, embedder, generator)


def warm_up(pipeline: Pipeline) -> None:
    """Load the LLM, run the embedder once and read the index's places (rule `place-not-in-line`),
    so the first question pays for none of them."""
    _ = pipeline.generator
    pipeline.embedder.embed_queries(["khởi động"])
    qualifying_places(pipeline.index)


def llm_name(pipeline: Pipeline) -> str:
    """The LLM's name without loading it."""
    return pipeline.generator_name.removesuffix(".gguf")


def corpus_signature(corpus: Path) -> tuple:
    """Names, sizes and modification times of the corpus files: cheap to take every few seconds,
    so the content hashes (index_freshness) are only computed when something moved."""
    if not corpus.is_dir():
        return ()
    files, _ = list_files(corpus)
    out = []
    for p in files:
        try:
            st = os.stat(p)
        except OSError:
            continue
        out.append((p.as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(out)
