"""Score the pipeline on a gold set: retrieval, answers, citations, refusals and cost.

Scoring functions are pure (values in, numbers out); `run` asks the pipeline every question and
records what it did; `summarize` averages the records overall and per question kind. Nothing
here prints: the eval command renders the results.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError
from rag.text import is_vietnamese, normalize_answer

KINDS = ("factual", "date-number", "who-where", "multi-article", "follow-up", "unanswerable")
RETRIEVAL_MODES = ("keyword", "dense", "hybrid")
ANSWER_MODES = ("extractive", "naive", "compose", "llm")  # naive: the brief's baseline (rag/evals/baseline.py);
# compose: the model writes the answer (the answer step before evidence-first); llm: the configured step
WITHOUT = "llm-without-"  # + a rag.verify.cite.RULES name: the configured step with that rule left out (--ablate)


class Replaying:
    """The generator, answering a call it has seen before from memory. With one verifier rule left
    out, a question is asked again and the model's words need not be generated again: what changes
    is only what the rules keep. (Ablation modes' timings are therefore not comparable.)"""

    def __init__(self, inner):
        self.inner, self.memo = inner, {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _key(self, *parts) -> str:
        return json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)

    def stream(self, messages, max_tokens: int = 200, ban: str = ""):
        key = self._key("stream", messages, max_tokens, ban)
        if key not in self.memo:
            self.memo[key] = list(self.inner.stream(messages, max_tokens, ban=ban))
        yield from self.memo[key]

    def pick_and_copy(self, messages, lines, max_tokens: int = 80, line: int | None = None, max_words: int | None = None) -> str:
        key = self._key("read", messages, lines, max_tokens, line, max_words)
        if key not in self.memo:
            self.memo[key] = (self.inner.pick_and_copy(messages, lines, max_tokens, line=line, max_words=max_words), dict(self.inner.last_read))
        out, self.last_read = self.memo[key]
        return out

    def yes_no(self, messages) -> float:
        key = self._key("yes_no", messages)
        if key not in self.memo:
            self.memo[key] = self.inner.yes_no(messages)
        return self.memo[key]
RECALL_AT = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line_start: int  # 1-based, inclusive
    line_end: int

    def overlaps(self, file: str, start: int, end: int) -> bool:
        return file == self.file and start <= self.line_end and self.line_start <= end


@dataclass(frozen=True, slots=True)
class GoldItem:
    id: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[Span, ...]  # alternatives: any one of them holds the answer
    kind: str
    lang: str
    history: tuple[tuple[str, str], ...] = ()
    paraphrase: bool = False  # the answer's words are not literally in the gold line

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


# ---------------------------------------------------------------- gold sets


def gold_item(row: dict, where: str = "") -> GoldItem:
    """One gold question from its JSON object; a malformed one raises ConfigError naming `where`."""
    try:
        gold = tuple(Span(g["file"], int(g["line_start"]), int(g["line_end"])) for g in row.get("gold", []))
        item = GoldItem(
            id=str(row["id"]),
            question=str(row["question"]),
            answers=tuple(str(a) for a in row.get("answers", [])),
            gold=gold,
            kind=str(row.get("kind", "factual")),
            lang=str(row.get("lang", "")),
            history=tuple((str(q), str(a)) for q, a in row.get("history", [])),
            paraphrase=bool(row.get("paraphrase", False)),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(
            f"{where}: a gold question needs id, question, answers and gold spans ({type(e).__name__}: {e})."
        ) from None
    if item.kind == "unanswerable" and (item.gold or item.answers):
        raise ConfigError(f"{where}: unanswerable question {item.id} must have empty answers and gold.")
    if item.kind != "unanswerable" and not (item.gold and item.answers):
        raise ConfigError(
            f'{where}: question {item.id} has no gold span or answer; mark it kind "unanswerable" if that is meant.'
        )
    return item


def load_gold(path: Path) -> list[GoldItem]:
    if not path.is_file():
        raise ConfigError(f"Gold file {path} does not exist. Pass --gold FILE (JSON lines, see eval/gold/seeds.jsonl).")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise ConfigError(f"{path}:{n} is not JSON ({e}).") from None
        items.append(gold_item(row, f"{path}:{n}"))
    if not items:
        raise ConfigError(f"Gold file {path} holds no questions.")
    return items


def sample(items: Sequence[GoldItem], limit: int | None, seed: int = 0) -> list[GoldItem]:
    """A repeatable subset of `limit` items, in their original order."""
    if not limit or limit >= len(items):
        return list(items)
    keep = set(random.Random(f"gold:{seed}").sample(range(len(items)), limit))
    return [it for i, it in enumerate(items) if i in keep]


# ---------------------------------------------------------------- answer scores

from rag.reasons import Reason
from rag.verify.cite import MARKER as _MARKERS


def clean(text: str) -> str:
    """The answer as scored: citation markers removed, then normalised."""
    return normalize_answer(_MARKERS.sub(" ", text or ""))


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    pred = clean(prediction)
    return float(any(pred == clean(a) for a in answers))


def _f1(pred: list[str], gold: list[str]) -> float:
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if not same:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD token F1 over syllables, the best over the accepted variants."""
    pred = clean(prediction).split()
    return max((_f1(pred, clean(a).split()) for a in answers), default=0.0)


# What an answer quotes from its lines («…»): the short answer is what is left. Quoted lines often
# hold the gold answer whatever the answer says, so eval reports contains with and without them.
QUOTED = re.compile(r"«[^»]*»")


def contains_answer(prediction: str, answers: Iterable[str]) -> float:
    """1 when a whole accepted answer appears in the prediction, on word boundaries."""
    pred = f" {clean(prediction)} "
    return float(any(clean(a) and f" {clean(a)} " in pred for a in answers))


# ---------------------------------------------------------------- retrieval and citation scores

Ref = tuple[str, int, int]  # (file, start_line, end_line)


def first_relevant(ranked: Sequence[Ref], gold: Sequence[Span]) -> int | None:
    """1-based rank of the first result that overlaps a gold span."""
    for rank, (file, start, end) in enumerate(ranked, 1):
        if any(g.overlaps(file, start, end) for g in gold):
            return rank
    return None


def retrieval_scores(rank: int | None) -> dict[str, float]:
    out = {f"recall@{k}": float(rank is not None and rank <= k) for k in RECALL_AT}
    out["mrr"] = 1.0 / rank if rank else 0.0
    return out


def citation_scores(cited: Sequence[Ref], gold: Sequence[Span], need_all: bool = False) -> tuple[float | None, float]:
    """(precision: share of citations on a gold span, None without citations; recall).

    Recall is 1 when any gold span is cited (gold spans are alternatives), or with need_all
    (multi-article questions) the share of gold spans cited.
    """
    precision = sum(any(g.overlaps(*c) for g in gold) for c in cited) / len(cited) if cited else None
    covered = [any(g.overlaps(*c) for c in cited) for g in gold]
    recall = (sum(covered) / len(covered) if need_all else float(any(covered))) if gold else 0.0
    return precision, recall


def citations_valid(cited: Sequence[Ref], shown: Sequence[Ref], line_counts: dict[str, int]) -> bool:
    """Every cited line exists in its file and lies inside a line the model was shown."""
    for file, start, end in cited:
        if not (1 <= start <= end <= line_counts.get(file, 0)):
            return False
        if not any(f == file and s <= start and end <= e for f, s, e in shown):
            return False
    return True


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# ---------------------------------------------------------------- running

Progress = Callable[[int, int], None]


def run(
    pipeline,
    items: Sequence[GoldItem],
    retrieval_modes: Sequence[str] = ("hybrid",),
    answer_modes: Sequence[str] = ("llm",),
    k: int = 10,
    progress: Progress | None = None,
) -> list[dict]:
    """Ask every question; return one record per question with what happened and its scores."""
    line_counts = {f: len(d.lines) for f, d in pipeline.index.docs.items()}
    if any(m.startswith(WITHOUT) for m in answer_modes) and not isinstance(pipeline.generator, Replaying):
        pipeline.generator = Replaying(pipeline.generator)
    count_tokens = getattr(pipeline.generator, "count_tokens", None) if "llm" in answer_modes else None
    records = []
    histories = [[list(h) for h in item.history] or None for item in items]
    for item, history in zip(items, histories):
        rec: dict = {
            "id": item.id,
            "kind": item.kind,
            "lang": item.lang,
            "question": item.question,
            "answerable": item.answerable,
            "retrieval": {},
            "answers": {},
        }
        for mode in retrieval_modes:
            ret = pipeline.retrieve(item.question, history, mode=mode, k=k)
            ranked = [(h.file, h.start_line, h.end_line) for h in ret.hits]
            rank = first_relevant(ranked, item.gold) if item.answerable else None
            rec["retrieval"][mode] = {
                "rank": rank,
                "ms": ret.ms,
                "top": [f"{f}:{s}" for f, s, _ in ranked[:3]],
                # how sure retrieval was: the first lines' fused and dense scores (a margin to read
                # against `rank`: docs/results.md, Session 34)
                "fused": [round(h.score, 5) for h in ret.hits[:3]],
                "dense": [round(h.dense, 4) for h in ret.hits[:3]],
                **(retrieval_scores(rank) if item.answerable else {}),
            }
        records.append(rec)
    # One answer mode over all questions, then the next: interleaving them would evict each
    # other's cached prompt prefix from the LLM and inflate every first-token time.
    done, total = 0, len(items) * len(answer_modes)
    for mode in answer_modes:
        for item, rec, history in zip(items, records, histories):
            if mode == "naive":
                from rag.evals.baseline import ask_naive

                ans = ask_naive(pipeline, item.question, history)
            elif mode == "compose":
                ans = pipeline.ask(item.question, history, mode="llm", answer_step="compose")
            elif mode.startswith(WITHOUT):  # the configured step with one verifier rule left out
                pipeline.ablate = frozenset({mode.removeprefix(WITHOUT)})
                try:
                    ans = pipeline.ask(item.question, history, mode="llm")
                finally:
                    pipeline.ablate = frozenset()
            else:
                ans = pipeline.ask(item.question, history, mode=mode)
            rec["answers"][mode] = score_answer(item, ans, line_counts, count_tokens if mode != "extractive" else None)
            if mode != "extractive":
                rec["answers"][mode]["raw"] = ans.raw  # what the model wrote, before the citation check
            done += 1
            if progress:
                progress(done, total)
    return records


def in_english(text: str, item: GoldItem) -> float | None:
    """For an English question, whether the answer's own words (its quotes left out) hold one of
    the gold answers written in English: what an English reader gets. `contains_short` also counts a
    Vietnamese gold answer, and a copied phrase the translation step left in Vietnamese holds one
    (about a fifth of English answers until 0.3.6). None for other questions."""
    english = [a for a in item.answers if not is_vietnamese(a)]
    if item.lang != "en" or not english:
        return None
    return contains_answer(QUOTED.sub(" ", text), english)


def score_answer(item: GoldItem, ans, line_counts: dict[str, int], count_tokens=None) -> dict:
    """Scores for one Answer against its gold item."""
    cited = [(c.file, c.line_start, c.line_end) for c in ans.citations]
    shown = [(e.file, e.start_line, e.end_line) for e in ans.evidence]
    text = "" if ans.refused else ans.answer
    out = {
        "answer": ans.answer,
        "refused": ans.refused,
        "reason": ans.reason,
        "citations": [f"{f}:{s}" for f, s, _ in cited],
        "dropped": len(ans.dropped),
        "dropped_text": list(ans.dropped),
        "dropped_by": list(getattr(ans, "dropped_by", []) or []),  # the rule that dropped each (docs/verification.md)
        "timings_ms": dict(ans.timings_ms),
        "valid": citations_valid(cited, shown, line_counts) if cited else None,
        "evidence_hit": first_relevant(shown, item.gold) is not None if item.answerable else None,
        "read": dict(ans.read),
    }
    if item.answerable:
        precision, recall = citation_scores(cited, item.gold, need_all=item.kind == "multi-article")
        out.update(
            em=exact_match(text, item.answers),
            f1=token_f1(text, item.answers),
            contains=contains_answer(text, item.answers),
            contains_short=contains_answer(QUOTED.sub(" ", text), item.answers),
            in_english=in_english(text, item),
            cit_precision=precision,
            cit_recall=recall,
        )
    gen_ms = ans.timings_ms.get("total", 0.0) - ans.timings_ms.get("first_token", 0.0)
    if count_tokens and ans.raw and gen_ms > 0:
        out["tokens_per_s"] = count_tokens(ans.raw) / (gen_ms / 1000)
    return out


# ---------------------------------------------------------------- summaries


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def declined(scored: dict) -> bool:
    """The answer does not answer the question as asked: a refusal, or a partial answer, which
    says first that no article answers it ("No article answers «What did Szijjarto propose?».
    What they report instead: «…» [1]") and then quotes the closest lines. For an unanswerable
    question both are right (`correct_refusal`; `correct_refusal_strict` counts refusals alone,
    as reports before 0.3.2 did)."""
    return bool(scored["refused"]) or scored.get("reason") == Reason.PARTIAL


def outcome(scored: dict) -> str:
    """Where an answerable question ended up: the first thing to read when a score drops. An answer
    that quotes a line instead of the model's words (reason Reason.QUOTED) says so."""
    if scored["refused"]:
        return "refused, gold shown" if scored["evidence_hit"] else "refused, gold not shown"
    if scored["contains"]:
        where = "right"
    else:
        where = "wrong, gold shown" if scored["evidence_hit"] else "wrong, gold not shown"
    return where + (" (quoted line)" if scored.get("reason") == Reason.QUOTED else "")


def summarize_group(records: Sequence[dict]) -> dict:
    """Averages over a group of records: retrieval per mode, answers per mode."""
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    out: dict = {"n": len(records), "answerable": len(answerable), "retrieval": {}, "answers": {}}
    modes = {m for r in records for m in r["retrieval"]}
    for mode in [m for m in RETRIEVAL_MODES if m in modes]:
        got = [r["retrieval"][mode] for r in answerable]
        out["retrieval"][mode] = {key: _mean(g[key] for g in got) for key in [f"recall@{k}" for k in RECALL_AT] + ["mrr"]}
        out["retrieval"][mode]["ms_p50"] = percentile([r["retrieval"][mode]["ms"] for r in records], 0.5)
    modes = {m for r in records for m in r["answers"]}
    for mode in [m for m in ANSWER_MODES if m in modes] + sorted(m for m in modes if m not in ANSWER_MODES):
        got = [r["answers"][mode] for r in answerable]
        bad = [r["answers"][mode] for r in unanswerable]
        every = [r["answers"][mode] for r in records]
        timing = {k: [a["timings_ms"].get(k, 0.0) for a in every] for k in ("retrieve", "first_token", "total")}
        summary = {key: _mean(g.get(key) for g in got) for key in ("em", "f1", "contains", "contains_short", "in_english", "cit_precision", "cit_recall")}
        summary.update(
            valid=_mean(None if a["valid"] is None else float(a["valid"]) for a in every),
            evidence_hit=_mean(float(g["evidence_hit"]) for g in got),
            correct_refusal=_mean(float(declined(a)) for a in bad),
            correct_refusal_strict=_mean(float(a["refused"]) for a in bad),
            false_refusal=_mean(float(a["refused"]) for a in got),
            dropped=_mean(float(a["dropped"]) for a in every),
            refusal_reasons=dict(Counter(a["reason"] for a in every if a["refused"])),
            outcomes=dict(Counter(outcome(a) for a in got)),
            tokens_per_s=percentile([a["tokens_per_s"] for a in every if "tokens_per_s" in a], 0.5),
        )
        for k, vals in timing.items():
            summary[f"{k}_p50"] = percentile(vals, 0.5)
            summary[f"{k}_p95"] = percentile(vals, 0.95)
        out["answers"][mode] = summary
    return out


def summarize(records: Sequence[dict]) -> dict:
    kinds = [k for k in KINDS if any(r["kind"] == k for r in records)]
    kinds += sorted({r["kind"] for r in records} - set(kinds))
    langs = sorted({r["lang"] for r in records if r["lang"]})
    return {
        "overall": summarize_group(records),
        "by_kind": {k: summarize_group([r for r in records if r["kind"] == k]) for k in kinds},
        "by_lang": {lang: summarize_group([r for r in records if r["lang"] == lang]) for lang in langs},
    }


# ---------------------------------------------------------------- regressions

LOWER_IS_BETTER = ("false_refusal",)
CHECKED = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr",
    "em",
    "f1",
    "contains",
    "contains_short",
    "in_english",
    "cit_precision",
    "cit_recall",
    "valid",
    "correct_refusal",
    "false_refusal",
)


def flatten(report: dict) -> dict[str, float]:
    """Quality metrics of a report as {"seeds.retrieval.hybrid.mrr": 0.8, ...} (latencies left out: too noisy)."""
    out = {}
    for name, ds in report.get("datasets", {}).items():
        overall = ds["summary"]["overall"]
        for part in ("retrieval", "answers"):
            for mode, metrics in overall.get(part, {}).items():
                for key, value in metrics.items():
                    if key in CHECKED and isinstance(value, (int, float)):
                        out[f"{name}.{part}.{mode}.{key}"] = float(value)
    return out


@dataclass(frozen=True, slots=True)
class Delta:
    metric: str
    baseline: float
    current: float

    @property
    def change(self) -> float:
        return self.current - self.baseline

    def regressed(self, tolerance: float) -> bool:
        worse = -self.change if self.metric.endswith(LOWER_IS_BETTER) else self.change
        return worse < -tolerance - 1e-12


def compare(current: dict, baseline: dict) -> list[Delta]:
    """The metrics both reports measured, baseline beside current."""
    now, then = flatten(current), flatten(baseline)
    return [Delta(m, then[m], now[m]) for m in sorted(now.keys() & then.keys())]
