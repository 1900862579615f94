"""Turn SQuAD-style QA datasets (XQuAD, UIT-ViNewsQA, MLQA) into a corpus folder and gold questions.

Each context becomes one .txt file with one paragraph-sized run of sentences per line; gold
answers are located in the context (by offset, or by text where the offset is wrong) and mapped
to 1-based lines. Sampling with a seed keeps quick runs repeatable and their indexes small.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.corpus.chunking import chunk_document
from rag.corpus.ingest import parse_document
from rag.errors import ConfigError
from rag.text import nfc

# A line packs whole sentences up to about this many characters: the size of a news paragraph
# in seeds/ (median 147, mean 162 characters), so retrieval works at the granularity it has there.
LINE_CHARS = 250
MIN_DISTRACTORS = 20  # contexts with no sampled question, so a small run still has to search
# "<dataset>-nearmiss": the same sampled questions, with the lines that hold their answers emptied
# out of the corpus (line numbers kept). Each question then has close lines (the rest of its
# paragraph, its article's other paragraphs) but no answer: an unanswerable near-miss that no
# rule of ours was written for. A question whose answer text is still written elsewhere in the
# corpus is left out.
NEAR_MISS = "-nearmiss"

# name -> (family, files under the data folder, question language). One family shares one corpus.
DATASETS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "xquad-en-vi": ("xquad", ("xquad/xquad.vi.json", "xquad/xquad.en.json"), "en"),
    "xquad-vi-vi": ("xquad", ("xquad/xquad.vi.json",), "vi"),
    "vinewsqa": ("vinewsqa", ("vinewsqa/dev_ViNewsQA.json",), "vi"),
    "mlqa": ("mlqa", ("mlqa/dev-context-vi-question-vi_fb.json",), "vi"),
}

_SENT_END = re.compile(r"[.!?…]+[\"”’»)\]]*\s+")


@dataclass(slots=True)
class Context:
    file: str
    title: str  # written as line 1 when the dataset has real headlines (ViNewsQA)
    text: str  # NFC
    lines: list[tuple[int, int]] = field(default_factory=list)  # [start, end) char offsets of each body line


@dataclass(slots=True)
class Prepared:
    name: str
    key: str  # the cache folder's name: family, limit, seed
    corpus: Path
    gold: list[dict]
    contexts: int
    skipped: int  # questions whose answer could not be placed on an indexed line


def data_root() -> Path:
    """$RAG_EVAL_DATA, else shared/data beside the repository."""
    env = os.environ.get("RAG_EVAL_DATA")
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def split_lines(text: str, max_chars: int = LINE_CHARS) -> list[tuple[int, int]]:
    """[start, end) offsets of lines: sentences packed greedily up to max_chars; newlines always break."""
    sentences: list[tuple[int, int, bool]] = []  # (start, end, opens a new block)
    for block in re.finditer(r"[^\n]+", text):
        start = block.start()
        for m in _SENT_END.finditer(block.group()):
            nxt = block.group()[m.end() : m.end() + 1]
            if nxt and (nxt.isupper() or nxt.isdigit() or nxt in '"“‘«('):
                sentences.append((start, block.start() + m.end(), start == block.start()))
                start = block.start() + m.end()
        sentences.append((start, block.end(), start == block.start()))
    lines: list[tuple[int, int]] = []
    for s, e, new_block in sentences:
        if lines and not new_block and e - lines[-1][0] <= max_chars:
            lines[-1] = (lines[-1][0], e)
        else:
            lines.append((s, e))
    # Trim whitespace so each line is exactly the text written to the file.
    out = []
    for s, e in lines:
        chunk = text[s:e]
        s2 = s + len(chunk) - len(chunk.lstrip())
        e2 = e - (len(chunk) - len(chunk.rstrip()))
        if e2 > s2:
            out.append((s2, e2))
    return out


def locate(context: str, answer: str, hint: int) -> tuple[int, int] | None:
    """[start, end) of `answer` in `context`: at `hint` if it is there, else the occurrence nearest it."""
    if not answer:
        return None
    if context[hint : hint + len(answer)] == answer:
        return hint, hint + len(answer)
    found = [m.start() for m in re.finditer(re.escape(answer), context)]
    if not found:
        low = context.lower()
        found = [m.start() for m in re.finditer(re.escape(answer.lower()), low)]
    if not found:
        return None
    best = min(found, key=lambda i: abs(i - hint))
    return best, best + len(answer)


def file_text(ctx: Context, emptied: set[int] | frozenset[int] = frozenset()) -> str:
    """The context as a file: its title (if any), then one line per body line; lines numbered in
    `emptied` (1-based, as in span_to_lines) are written empty."""
    lines = ([ctx.title] if ctx.title else []) + [ctx.text[s:e] for s, e in ctx.lines]
    return "\n".join("" if n in emptied else text for n, text in enumerate(lines, 1)) + "\n"


def span_to_lines(ctx: Context, start: int, end: int) -> tuple[int, int] | None:
    """1-based file lines (title line included) that the answer's characters fall on."""
    offset = 2 if ctx.title else 1
    hit = [i for i, (s, e) in enumerate(ctx.lines) if s < end and start < e]
    if not hit:
        return None
    return hit[0] + offset, hit[-1] + offset


def guess_kind(question: str) -> str:
    """A rough question type from its wording (never from the answer), for per-kind tables."""
    q = " " + question.lower() + " "
    if re.search(r"\b(when|what year|what date|how many|how much|how long|how old|what percentage)\b", q) or re.search(
        r"(khi nào|bao giờ|năm nào|ngày nào|tháng nào|bao nhiêu|bao lâu|mấy )", q
    ):
        return "date-number"
    if re.search(r"\b(who|whom|whose|where)\b", q) or re.search(r"( ai | ai\?|^ ai|ở đâu|nơi nào|đâu\?)", q):
        return "who-where"
    return "factual"


def _read_squad(path: Path) -> list[dict]:
    if not path.is_file():
        raise ConfigError(f"Dataset file {path} is missing. Set RAG_EVAL_DATA to the folder holding xquad/, vinewsqa/ and mlqa/.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError) as e:
        raise ConfigError(f"{path} is not SQuAD JSON ({e}).") from None


def load(name: str, root: Path | None = None) -> tuple[list[Context], list[dict]]:
    """Every context and every question of a dataset; questions carry `ctx` (an index) and answer offsets."""
    if name not in DATASETS:
        raise ConfigError(f"Unknown dataset {name!r}: choose one of seeds, {', '.join(DATASETS)}.")
    family, files, lang = DATASETS[name]
    root = root or data_root()
    data = _read_squad(root / files[0])
    english: dict[str, dict] = {}
    if len(files) > 1:  # XQuAD en: the same ids, English question and answer text
        for art in _read_squad(root / files[1]):
            for para in art["paragraphs"]:
                for qa in para["qas"]:
                    english[qa["id"]] = qa
    contexts: list[Context] = []
    questions: list[dict] = []
    for ai, art in enumerate(data):
        for pi, para in enumerate(art["paragraphs"]):
            title = nfc(art.get("title", "")).strip() if family == "vinewsqa" else ""
            ctx = Context(f"{ai:03d}_{pi:02d}.txt", title, nfc(para["context"]))
            ctx.lines = split_lines(ctx.text)
            contexts.append(ctx)
            for qa in para["qas"]:
                answers = [(nfc(a["text"]).strip(), a.get("answer_start", 0)) for a in qa["answers"]]
                question = nfc(qa["question"]).strip()
                texts = [t for t, _ in answers]
                if english:
                    en = english.get(qa["id"])
                    if en is None:
                        continue
                    question = nfc(en["question"]).strip()
                    texts += [nfc(a["text"]).strip() for a in en["answers"]]
                questions.append(
                    {
                        "id": qa["id"],
                        "question": question,
                        "lang": lang,
                        "ctx": len(contexts) - 1,
                        "offsets": answers,
                        "answers": list(dict.fromkeys(t for t in texts if t)),
                    }
                )
    return contexts, questions


def _gold_lines(ctx: Context, q: dict, indexed: set[int]) -> list[dict]:
    spans: dict[tuple[int, int], None] = {}
    for text, hint in q["offsets"]:
        where = locate(ctx.text, text, hint)
        lines = span_to_lines(ctx, *where) if where else None
        if lines and all(n in indexed for n in range(lines[0], lines[1] + 1)):
            spans[lines] = None
    return [{"file": ctx.file, "line_start": a, "line_end": b} for a, b in spans]


def prepare(name: str, cache: Path, limit: int | None = None, seed: int = 0, root: Path | None = None) -> Prepared:
    """Write the corpus for `name` under cache/<key>/corpus (only files that changed) and return its
    gold set. `<dataset>-nearmiss` (NEAR_MISS): the same questions, their answer lines emptied,
    every question unanswerable."""
    base = name.removesuffix(NEAR_MISS)
    near_miss = base != name
    family = DATASETS[base][0] if base in DATASETS else base
    contexts, questions = load(base, root)
    # One generator per family: xquad-en-vi and xquad-vi-vi sample the same question ids.
    rng = random.Random(f"{family}:{seed}")
    order = sorted(range(len(questions)), key=lambda i: questions[i]["id"])
    if limit and limit < len(order):
        order = sorted(rng.sample(order, limit), key=lambda i: (questions[i]["ctx"], i))
    chosen = [questions[i] for i in order]
    needed = sorted({q["ctx"] for q in chosen})
    needed_set = set(needed)
    rest = [i for i in range(len(contexts)) if i not in needed_set]
    if limit:
        rest = sorted(rng.sample(rest, min(len(rest), max(MIN_DISTRACTORS, len(needed)))))
    keep = sorted(set(needed) | set(rest))
    key = f"{family}-{limit or 'all'}-{seed}" + (NEAR_MISS if near_miss else "")
    corpus = cache / key / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    emptied: dict[str, set[int]] = {}
    if near_miss:
        for q in chosen:
            ctx = contexts[q["ctx"]]
            for text, hint in q["offsets"]:
                where = locate(ctx.text, text, hint)
                lines = span_to_lines(ctx, *where) if where else None
                if lines:
                    emptied.setdefault(ctx.file, set()).update(range(lines[0], lines[1] + 1))
    wanted: dict[str, str] = {contexts[i].file: file_text(contexts[i], emptied.get(contexts[i].file, set())) for i in keep}
    for old in corpus.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    indexed: dict[str, set[int]] = {}
    for fname, text in wanted.items():
        path = corpus / fname
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        indexed[fname] = {c.start_line for c in chunk_document(parse_document(fname, data))}
    gold, skipped = [], 0
    everything = "\n".join(wanted.values()).casefold()
    for q in chosen:
        ctx = contexts[q["ctx"]]
        if near_miss:
            if ctx.file not in emptied or any(a.casefold() in everything for a in q["answers"]):
                skipped += 1  # its answer could not be placed, or is still written somewhere
                continue
            gold.append({"id": q["id"], "question": q["question"], "answers": [], "gold": [], "kind": "unanswerable", "lang": q["lang"]})
            continue
        spans = _gold_lines(ctx, q, indexed[ctx.file])
        if not spans:
            skipped += 1
            continue
        gold.append(
            {
                "id": q["id"],
                "question": q["question"],
                "answers": q["answers"],
                "gold": spans,
                "kind": guess_kind(q["question"]),
                "lang": q["lang"],
            }
        )
    (cache / key / f"{name}.gold.jsonl").write_text(
        "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), encoding="utf-8"
    )
    return Prepared(name, key, corpus, gold, len(keep), skipped)
