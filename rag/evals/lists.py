"""Scoring list and timeline answers against gold items (`rag eval --lists FILE`).

A gold row: {id, question, lang, shape: list|timeline, items: [{what, lines: [{file, line_start,
line_end}], date: ISO | "YYYY-MM" | "YYYY-MM-DD/week" | null}], note}. Every line that states an
item is listed; citing any one of them finds the item.

Per question:
  - item precision: the answer's items that cite a line of some gold item, over the answer's items;
  - item recall: the gold items whose lines some answer item cites, over the gold items;
  - distinct precision: the answer's items that find a gold item no earlier item found, over the
    answer's items (an event reported twice and listed twice counts once);
  - order (timelines): over pairs of found gold items whose order is known (both dated, or both
    undated in one article, in the gold's order), the share the answer lists in the same order;
  - dates: over found gold items with a date, the share the answer dates the same (right), and
    the share it gives another resolved date (wrong; an item left undated, or dated "year not
    stated", is neither).
An answer that is not a list counts as one item citing all its citations; a refusal has none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.errors import ConfigError


def load(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{n} is not JSON ({e.msg}). Each line must be one list-gold object.") from None
        if not isinstance(row, dict) or not row.get("question") or not isinstance(row.get("items"), list):
            raise ConfigError(f"{path}:{n} needs a question and a list of items (see rag/evals/lists.py).")
        rows.append(row)
    if not rows:
        raise ConfigError(f"{path} holds no questions.")
    return rows


def _lines(item: dict) -> set[tuple[str, int]]:
    return {(s["file"], n) for s in item["lines"] for n in range(s["line_start"], s["line_end"] + 1)}


def answer_items(ans) -> list[dict]:
    """What the answer lists: [{cited: {(file, line)}, date: iso|None}] in its order."""
    if ans.refused or not ans.citations:
        return []
    if ans.items:
        return [
            {"cited": {(c.file, n) for c in it.citations for n in range(c.line_start, c.line_end + 1)}, "date": it.date.iso if it.date else None}
            for it in ans.items
        ]
    return [{"cited": {(c.file, n) for c in ans.citations for n in range(c.line_start, c.line_end + 1)}, "date": None}]


def _same_date(ours: str | None, gold: str) -> bool:
    return ours is not None and (ours == gold or ours.split("/")[0] == gold.split("/")[0])


def score(row: dict, ans) -> dict:
    gold = row["items"]
    got = answer_items(ans)
    gold_lines = [_lines(g) for g in gold]
    right = [any(a["cited"] & gl for gl in gold_lines) for a in got]
    first: dict[int, int] = {}  # gold item -> position of the first answer item that finds it
    for pos, a in enumerate(got):
        for gi, gl in enumerate(gold_lines):
            if a["cited"] & gl and gi not in first:
                first[gi] = pos
    distinct = len(set(first.values()))  # answer items that found a gold item first
    pairs = concordant = 0
    if row.get("shape") == "timeline":
        for i in sorted(first):
            for j in sorted(first):
                if j <= i or first[i] == first[j]:
                    continue
                gi, gj = gold[i], gold[j]
                known = (gi.get("date") and gj.get("date")) or (
                    not gi.get("date") and not gj.get("date") and {f for f, _ in gold_lines[i]} == {f for f, _ in gold_lines[j]}
                )
                if known:
                    pairs += 1
                    concordant += first[i] < first[j]
    dated = [gi for gi in first if gold[gi].get("date")]
    return {
        "id": row.get("id", ""),
        "lang": row.get("lang", ""),
        "shape": row.get("shape", ""),
        "answered_shape": ans.shape,
        "question": row["question"],
        "returned": len(got),
        "correct": sum(right),
        "precision": sum(right) / len(got) if got else None,
        "distinct": distinct,
        "recall": len(first) / len(gold) if gold else None,
        "order_pairs": pairs,
        "order": concordant / pairs if pairs else None,
        "dates_checked": len(dated),
        "dates_right": sum(_same_date(got[first[gi]]["date"], gold[gi]["date"]) for gi in dated),
        "dates_wrong": sum(got[first[gi]]["date"] is not None and not _same_date(got[first[gi]]["date"], gold[gi]["date"]) for gi in dated),
        "wrong_items": [sorted(f"{f}:{n}" for f, n in a["cited"]) for a, ok in zip(got, right) if not ok],
        "missed": [gold[gi]["what"] for gi in range(len(gold)) if gi not in first],
        "answer": ans.answer,
        "ms": round(ans.timings_ms.get("total", 0.0), 1),
    }


def run(pipeline, rows: Sequence[dict], progress: Callable[[int, int], None] | None = None) -> list[dict]:
    out = []
    for n, row in enumerate(rows, 1):
        t0 = time.perf_counter()
        ans = pipeline.ask(row["question"])
        rec = score(row, ans)
        rec["ms"] = round((time.perf_counter() - t0) * 1000, 1)
        out.append(rec)
        if progress:
            progress(n, len(rows))
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summary(records: Sequence[dict]) -> dict:
    """Micro-averaged precision (all items) and recall (all gold items), order over all pairs."""
    returned = sum(r["returned"] for r in records)
    pairs = sum(r["order_pairs"] for r in records)
    dates = sum(r["dates_checked"] for r in records)
    ms = sorted(r["ms"] for r in records)
    return {
        "questions": len(records),
        "item_precision": sum(r["correct"] for r in records) / returned if returned else None,
        "item_recall": _mean([r["recall"] for r in records]),
        "distinct_precision": sum(r["distinct"] for r in records) / returned if returned else None,
        "order": sum((r["order"] or 0) * r["order_pairs"] for r in records) / pairs if pairs else None,
        "order_pairs": pairs,
        "dates_right": sum(r["dates_right"] for r in records) / dates if dates else None,
        "dates_wrong": sum(r.get("dates_wrong", 0) for r in records) / dates if dates else None,
        "dates_checked": dates,
        "detected_as_list": sum(r["answered_shape"] != "one" for r in records),
        "p50_ms": ms[len(ms) // 2] if ms else None,
    }


def markdown(records: Sequence[dict], summ: dict, title: str) -> str:
    f = lambda v: "-" if v is None else f"{v:.2f}"
    lines = [
        f"# {title}",
        "",
        (
            f"{summ['questions']} questions; item precision {f(summ['item_precision'])} "
            f"(distinct {f(summ['distinct_precision'])}), item recall {f(summ['item_recall'])}, "
            f"order {f(summ['order'])} ({summ['order_pairs']} pairs), dates right {f(summ['dates_right'])}, wrong {f(summ['dates_wrong'])} ({summ['dates_checked']}), "
            f"answered as a list {summ['detected_as_list']}, median {summ['p50_ms'] / 1000 if summ['p50_ms'] else 0:.1f} s"
        ),
        "",
        "| id | lang | shape (answered) | items | right | distinct | precision | recall | order | dates right/wrong/checked | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['id']} | {r['lang']} | {r['shape']} ({r['answered_shape']}) | {r['returned']} | {r['correct']} | {r['distinct']} | {f(r['precision'])} | "
            f"{f(r['recall'])} | {f(r['order'])} | {r['dates_right']}/{r.get('dates_wrong', 0)}/{r['dates_checked']} | {r['ms'] / 1000:.1f} |"
        )
    return "\n".join(lines) + "\n"
