"""Options that every command takes before or after its name: `rag --corpus D index` and
`rag index --corpus D` mean the same. Only click is imported here.

Each option stores what it was given in the invocation's shared `ctx.meta`, the group's first and
then the command's, so a value given after the command wins over one given before it.
"""

from __future__ import annotations

import click

from rag.kinds import EMBEDDERS

_KEY = "rag.options"


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value is not None:
        ctx.meta.setdefault(_KEY, {})[param.name] = value
    return value


_SPECS: dict[str, tuple[tuple, dict]] = {
    "corpus": (("--corpus",), {"metavar": "DIR", "help": "Folder of .txt articles (default: seeds/)."}),
    "index": (("--index",), {"metavar": "DIR", "help": "Index folder (default: index/)."}),
    "embedder": (("--embedder",), {"type": click.Choice(EMBEDDERS), "help": "Embedding model (default: gemma)."}),
    "config": (("--config",), {"metavar": "FILE", "help": "Settings file (default: ./rag.toml if present)."}),
    "llm_url": (
        ("--llm-url",),
        {
            "metavar": "URL",
            "help": "Use an OpenAI-compatible server (llama.cpp, vLLM) instead of the local model, "
            "e.g. http://127.0.0.1:8080/v1; RAG_LLM_MODEL names the model to ask for.",
        },
    ),
    "vector_store": (
        ("--vector-store",),
        {
            "metavar": "SPEC",
            "help": "Search a vector database instead of the built-in FAISS index: "
            "milvus:http://HOST:19530 (the index folder is mirrored into it).",
        },
    ),
}
ALL = tuple(_SPECS)


def settings_options(*names: str, expose: bool = False):
    """Add the named shared options (default: all) to a command. Their values are read with
    `option(ctx, name)`; `expose=True` also passes them to the function (the group does)."""

    def decorate(f):
        for name in reversed(names or ALL):
            decls, kw = _SPECS[name]
            f = click.option(*decls, name, callback=_remember, expose_value=expose, **kw)(f)
        return f

    return decorate


def option(ctx: click.Context, name: str):
    """The value given for a shared option, after the command or before it; None if neither."""
    return ctx.meta.get(_KEY, {}).get(name)


def settings(ctx: click.Context, **flags):
    """Settings from rag.toml, RAG_* variables and the shared options, then `flags` on top."""
    from rag.config import load_settings

    given = {n: option(ctx, n) for n in ALL if n != "config"}
    given.update({k: v for k, v in flags.items() if v is not None})
    return load_settings(option(ctx, "config"), **given)


def index_progress(label_prefix: str = "", stages: tuple[str, ...] = ("read", "embed"), enabled: bool = True):
    """build_index progress as one bar per stage on stderr (stdout stays clean for --json);
    returns (callback, close). `stages`: the stages worth a bar."""
    import sys

    state: dict = {"bar": None, "stage": None}

    def progress(stage: str, done: int, total: int) -> None:
        if not enabled or total == 0 or stage not in stages:
            return
        if state["stage"] != stage:
            if state["bar"] is not None:
                state["bar"].render_finish()
            label = label_prefix + {"read": "reading  ", "embed": "embedding"}.get(stage, stage)
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True)
            state["stage"] = stage
        state["bar"].update(done - state["bar"].pos)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].render_finish()

    return progress, close
