"""The naive pipeline the brief measured, rebuilt so `rag eval --compare` can run it on the same
questions as ours: dense top-6 lines, a plain "cite [file:line]" prompt to the same model, and
whatever the model writes taken as the answer, its citations trusted as written."""

from __future__ import annotations

import re
import time

from rag.answer.pipeline import Answer
from rag.answer.prompt import Evidence
from rag.reasons import Reason
from rag.verify.cite import Citation, declines

TOP = 6
SYSTEM = (
    "You are a helpful assistant. Answer the question using the context below. "
    "Cite the source of each claim as [file:line]. If the context does not contain the answer, say you don't know."
)
_TAG = re.compile(r"\[([^\[\]:]{1,80}):(\d+)(?:-(\d+))?\]")
_DONT_KNOW = re.compile(r"\b(don't|do not) know\b|\bnot (enough|sufficient) information\b|\bkhông (biết|rõ)\b", re.IGNORECASE)


def ask_naive(pipeline, question: str, history=None) -> Answer:
    t0 = time.perf_counter()
    ret = pipeline.retrieve(question, history, mode="dense", k=TOP)
    timings = {"retrieve": ret.ms, "first_token": 0.0, "total": 0.0}
    context = "\n".join(f"[{h.file}:{h.start_line}] {h.text}" for h in ret.hits)
    user = f"Context:\n{context}\n\nQuestion: {question}"

    def first() -> None:
        timings["first_token"] = (time.perf_counter() - t0) * 1000

    raw, _ = pipeline.generate([{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}], on_first=first)
    raw = raw.strip()
    timings["total"] = (time.perf_counter() - t0) * 1000
    timings["first_token"] = timings["first_token"] or timings["total"]
    refused = not raw or bool(_DONT_KNOW.search(raw)) or declines(raw)
    citations = []
    for n, m in enumerate(_TAG.finditer(raw), 1):
        start = int(m.group(2))
        citations.append(Citation(m.group(1).strip(), start, int(m.group(3) or start), "", n))
    shown = [Evidence(n, h.file, h.start_line, h.end_line, h.text, "", "", h.chunk_id, n) for n, h in enumerate(ret.hits, 1)]
    answer = Answer(question, raw, refused, [] if refused else citations, ret.hits, timings, evidence=shown, raw=raw)
    answer.reason = Reason.MODEL_NOT_FOUND if refused else ""
    return answer
