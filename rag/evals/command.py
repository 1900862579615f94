"""`rag eval`: measure the pipeline on gold sets and write JSON + Markdown reports.

Imports only click at module level so `rag --help` stays instant; the engine loads inside the command.
"""

from __future__ import annotations

import click

from rag.cli.options import option, settings_options
from rag.evals.paths import cache_root, repo_root
from rag.kinds import EMBEDDERS

DATASETS = (
    "seeds", "xquad-en-vi", "xquad-vi-vi", "vinewsqa", "mlqa",
    "xquad-en-vi-nearmiss", "xquad-vi-vi-nearmiss", "vinewsqa-nearmiss", "mlqa-nearmiss", "adversarial",
)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("eval", context_settings=CONTEXT)
@click.option(
    "--dataset", "datasets", multiple=True, type=click.Choice(DATASETS), help="Gold set to run (repeatable; default: seeds). "
    "NAME-nearmiss: the same sampled questions with the lines holding their answers emptied from the corpus "
    "(every question an unanswerable near-miss: correct refusals on public data).",
)
@click.option("--gold", type=click.Path(dir_okay=False), help="A gold JSONL file over the seeds (or --corpus) articles.")
@click.option("--lists", "lists_gold", type=click.Path(dir_okay=False, exists=True), help="A gold JSONL of list and timeline questions (eval/gold/lists-dev.jsonl): item precision (and distinct: an event listed twice counts once), recall, date order, by question.")
@click.option("--limit", type=click.IntRange(min=1), help="Ask only N questions, sampled repeatably with --seed.")
@click.option("--seed", default=0, show_default=True, help="Sampling seed for --limit.")
@click.option("--compare", is_flag=True, help="Also compare keyword/dense/hybrid retrieval and extractive answers (no LLM), the naive baseline (dense top-6, trusted [file:line] tags) and ours.")
@click.option("--no-llm", is_flag=True, help="Retrieval and extractive answers only (fast, no LLM).")
@click.option(
    "--answers", "answers_csv", metavar="MODES", help="Answer modes to run, comma-separated: extractive, naive, compose "
    "(the model writes the answer), llm (the configured answer step). Default: llm; with --compare, all.",
)
@click.option(
    "--ablate", "ablate", multiple=True, metavar="RULE", help="Also answer with one verifier rule left out (repeatable; "
    "'all': each rule in turn), as answer mode llm-without-RULE, replaying the model's words: what the rule is worth. "
    "Rules: docs/verification.md.",
)
@click.option("--embedder", type=click.Choice(EMBEDDERS), help="Embedding model (default: from settings).")
@click.option("--baseline", type=click.Path(dir_okay=False, exists=True), help="A saved report JSON to compare with.")
@click.option("--check", is_flag=True, help="Exit 1 when a metric falls below --baseline by more than --tolerance.")
@click.option("--tolerance", default=0.02, show_default=True, help="Allowed drop per metric for --check.")
@click.option("--out", default="eval/reports", show_default=True, type=click.Path(file_okay=False), help="Report folder.")
@settings_options("corpus", "config", "llm_url", "vector_store")
@click.pass_context
def eval_command(ctx, datasets, gold, lists_gold, limit, seed, compare, no_llm, embedder, baseline, check, tolerance, out, answers_csv=None, ablate=()):
    """Measure retrieval, answers, citations, refusals and latency on gold questions.

    \b
    rag eval                                    (seeds gold set, hybrid retrieval, LLM answers)
    rag eval --compare                          (+ keyword/dense retrieval, extractive and naive-baseline answers)
    rag eval --dataset xquad-en-vi --limit 200 --no-llm --compare
    rag eval --dataset xquad-en-vi-nearmiss --limit 60 --seed 97 --answers llm,naive
    rag eval --baseline eval/reports/X.json --check
    rag eval --lists eval/gold/lists-dev.jsonl  (list and timeline answers: items, dates, order)
    rag eval --ablate all                       (what each verifier rule is worth, model words replayed)

    Each dataset gets a corpus and an index in ~/.cache/vnrag/eval (RAG_EVAL_CACHE moves it);
    re-runs only re-embed what changed. Datasets are read from $RAG_EVAL_DATA (default:
    shared/data beside the repository). `--dataset adversarial` runs the planted prompt
    injections of eval/adversarial (the same as `rag attacks`; with --compare, the naive baseline
    and the seeds without the planted files too).
    """
    if lists_gold:
        _run_lists(ctx, lists_gold, out)
        return
    if "adversarial" in datasets:
        from rag.evals.attacks import attacks_command

        ctx.invoke(attacks_command, cases=None, naive=False, compare=compare, embedder=embedder, out=None)
        datasets = tuple(d for d in datasets if d != "adversarial")
        if not datasets:
            return
    _run(
        ctx,
        list(datasets) or ["seeds"],
        gold=gold,
        limit=limit,
        seed=seed,
        compare=compare,
        no_llm=no_llm,
        answers_csv=answers_csv,
        ablate=ablate,
        embedder=embedder,
        baseline=baseline,
        check=check,
        tolerance=tolerance,
        out=out,
    )


# ---------------------------------------------------------------- running


def _run_lists(ctx, path, out) -> None:
    """List and timeline questions over the configured corpus: a JSON and a Markdown report."""
    import json
    import time
    from pathlib import Path

    from rag.answer.pipeline import Pipeline
    from rag.cli.options import settings
    from rag.evals import lists as list_eval

    rows = list_eval.load(Path(path))
    pipeline = Pipeline.load(settings(ctx), preload_llm=True)
    with _bar("list questions", len(rows)) as bar:
        records = list_eval.run(pipeline, rows, lambda done, total: bar.update(1))
    summ = list_eval.summary(records)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-lists-{Path(path).stem}"
    (out_dir / f"{stem}.json").write_text(json.dumps({"gold": str(path), "summary": summ, "questions": records}, ensure_ascii=False, indent=1), encoding="utf-8")
    text = list_eval.markdown(records, summ, f"List answers on {Path(path).name} ({stem})")
    (out_dir / f"{stem}.md").write_text(text, encoding="utf-8")
    click.echo(text)
    click.echo(f"Report: {out_dir / stem}.json")


def _bar(label: str, total: int):
    import sys

    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True)


def _index_progress(name: str):
    """build_index progress: one bar for embedding (reading is instant); returns (callback, close)."""
    from rag.cli.options import index_progress

    return index_progress(f"{name}: ", stages=("embed",))


def _gold_for(name, gold, limit, seed, corpus_flag):
    """(dataset key, corpus folder, gold items, extra info) for one dataset."""
    import hashlib
    from pathlib import Path

    from rag.errors import ConfigError
    from rag.evals import datasets, evaluate

    if name == "seeds":
        corpus = Path(corpus_flag) if corpus_flag else repo_root() / "seeds"
        if not corpus.is_dir():
            raise ConfigError(
                f"Corpus folder {corpus} does not exist. Pass --corpus DIR with the articles the gold set is about."
            )
        items = evaluate.sample(
            evaluate.load_gold(Path(gold) if gold else repo_root() / "eval" / "gold" / "seeds.jsonl"), limit, seed
        )
        key = "seeds" if not corpus_flag else "corpus-" + hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:10]
        return key, corpus, items, {}
    prepared = datasets.prepare(name, cache_root(), limit, seed)
    items = [evaluate.gold_item(row, name) for row in prepared.gold]
    return prepared.key, prepared.corpus, items, {"contexts": prepared.contexts, "skipped_questions": prepared.skipped}


def _run(ctx, names, *, gold, limit, seed, compare, no_llm, embedder, baseline, check, tolerance, out, answers_csv=None, ablate=()):
    import dataclasses
    import json
    import resource
    import time
    from pathlib import Path

    from rag.answer.pipeline import Pipeline, attach_store
    from rag.config import load_settings
    from rag.errors import ConfigError
    from rag.evals import evaluate
    from rag.models.embedding import make_embedder
    from rag.store.index import build_index, load_index

    if gold and names != ["seeds"]:
        raise ConfigError("--gold replaces the seeds gold set: use it with --dataset seeds (the default) only.")
    if check and not baseline:
        raise ConfigError("--check compares with a saved report: add --baseline eval/reports/<report>.json.")
    settings = load_settings(
        option(ctx, "config"), embedder=embedder or option(ctx, "embedder"), llm_url=option(ctx, "llm_url"),
        vector_store=option(ctx, "vector_store"),
    )
    retrieval_modes = evaluate.RETRIEVAL_MODES if compare else ("hybrid",)
    answer_modes = ("extractive",) if no_llm else (evaluate.ANSWER_MODES if compare else ("llm",))
    if answers_csv:
        answer_modes = tuple(m.strip() for m in answers_csv.split(",") if m.strip())
        unknown = sorted(set(answer_modes) - set(evaluate.ANSWER_MODES))
        if unknown:
            raise ConfigError(f"Unknown answer mode(s) {', '.join(unknown)} for --answers: use {', '.join(evaluate.ANSWER_MODES)}.")
    if settings.answer_step == "compose" and not answers_csv:  # "llm" is the compose step already
        answer_modes = tuple(m for m in answer_modes if m != "compose")
    if ablate:
        from rag.verify.cite import RULES

        rules = list(RULES) if "all" in ablate else list(dict.fromkeys(ablate))
        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise ConfigError(f"Unknown rule(s) {', '.join(unknown)} for --ablate: use all, or one of {', '.join(RULES)}.")
        if no_llm:
            raise ConfigError("--ablate measures the LLM answer step's rules: leave out --no-llm.")
        answer_modes = tuple(dict.fromkeys([*answer_modes, "llm", *(evaluate.WITHOUT + r for r in rules)]))

    emb = make_embedder(settings.embedder, settings.gemma_path or None, settings.threads or None)
    generator = None  # the first pipeline loads the LLM (as `rag ask` would); later datasets reuse it
    report: dict = {
        "version": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "options": {"datasets": names, "gold": gold, "limit": limit, "seed": seed, "compare": compare, "no_llm": no_llm},
        "settings": dataclasses.asdict(settings),
        "models": {"embedder": emb.name, "llm": None},
        "datasets": {},
    }
    for name in names:
        t0 = time.perf_counter()
        key, corpus, items, extra = _gold_for(name, gold, limit, seed, option(ctx, "corpus"))
        index_dir = cache_root() / key / f"index-{settings.embedder}"
        progress, close = _index_progress(name)
        try:
            built = build_index(corpus, index_dir, emb, progress=progress)
        finally:
            close()
        loaded = attach_store(settings, load_index(index_dir, emb.name))
        pipe = Pipeline(settings.with_overrides(corpus=str(corpus), index=str(index_dir)), loaded, emb, generator)
        with _bar(f"{name}: answers", len(items) * len(answer_modes)) as bar:
            records = evaluate.run(pipe, items, retrieval_modes, answer_modes, progress=lambda done, total: bar.update(1))
        if set(answer_modes) & {"llm", "compose", "naive"}:
            generator = pipe.generator
            report["models"]["llm"] = getattr(generator, "name", None)
        manifest = {k: v for k, v in loaded.manifest.items() if k != "files"}
        report["datasets"][name] = {
            "corpus": str(corpus),
            "index_dir": str(index_dir),
            "index": manifest,
            "index_build": {"embedded": built.embedded_chunks, "seconds": round(built.seconds, 1)},
            "questions": len(items),
            **extra,
            "seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "summary": evaluate.summarize(records),
            "records": records,
        }

    deltas = []
    if baseline:
        base = json.loads(Path(baseline).read_text(encoding="utf-8"))
        deltas = evaluate.compare(report, base)
        report["baseline"] = {
            "file": str(baseline),
            "tolerance": tolerance,
            "regressions": [d.metric for d in deltas if d.regressed(tolerance)],
        }
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{'+'.join(names)}-{settings.embedder}" + ("-nollm" if no_llm else "")
    (out_dir / f"{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / f"{stem}.md").write_text(render(report, deltas, tolerance, markdown=True), encoding="utf-8")
    click.echo(render(report, deltas, tolerance, markdown=False))
    click.echo(f"reports: {out_dir / stem}.json, .md", err=True)
    if check and report["baseline"]["regressions"]:
        click.echo(
            f"check failed: {len(report['baseline']['regressions'])} metric(s) below the baseline by more than {tolerance}",
            err=True,
        )
        ctx.exit(1)


# ---------------------------------------------------------------- rendering


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ms(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


# (header, metric key) columns of the three tables; None values print as "-".
RETRIEVAL_COLS = (("R@1", "recall@1"), ("R@5", "recall@5"), ("R@10", "recall@10"), ("MRR", "mrr"))
ANSWER_COLS = (("EM", "em"), ("F1", "f1"), ("contains", "contains"), ("short", "contains_short"), ("in.en", "in_english"), ("ev.hit", "evidence_hit"), ("cit.valid", "valid"),
               ("cit.P", "cit_precision"), ("cit.R", "cit_recall"), ("refuse(unans)", "correct_refusal"),
               ("false.refuse", "false_refusal"))  # fmt: skip
KIND_COLS = (("F1", "f1"), ("contains", "contains"), ("short", "contains_short"), ("ev.hit", "evidence_hit"), ("cit.R", "cit_recall"))
LEGEND = (
    "Columns: R@k/MRR = a gold line among the ranked sources; contains = a whole gold answer appears in the answer "
    "(refusals score 0); short = the same, with the lines the answer quotes («…») left out; in.en = English questions only: "
    "an English gold answer in the answer's own words (quotes left out), what an English reader gets; ev.hit = a gold line was among the evidence shown to the model; cit.valid = every cited line "
    "exists and was shown; cit.P = citations on gold lines; cit.R = a gold span cited (multi-article: share of spans); "
    "refuse(unans) = unanswerable questions declined (refused, or a partial answer saying no article answers them); false.refuse = refusals on answerable ones."
)


def _dataset_tables(ds: dict, markdown: bool) -> list[str]:
    s = ds["summary"]
    over = s["overall"]
    rows = [[mode, str(over["answerable"]), *(_fmt(m[k]) for _, k in RETRIEVAL_COLS), _fmt(m["ms_p50"], 1)]
            for mode, m in over["retrieval"].items()]  # fmt: skip
    out = [_table(["retrieval", "n", *(h for h, _ in RETRIEVAL_COLS), "ms p50"], rows, markdown), ""]
    rows = [[mode, str(over["n"]), *(_fmt(m.get(k)) for _, k in ANSWER_COLS),
             f"{_ms(m['first_token_p50'])}/{_ms(m['first_token_p95'])}", f"{_ms(m['total_p50'])}/{_ms(m['total_p95'])}",
             _fmt(m["tokens_per_s"], 1)]
            for mode, m in over["answers"].items()]  # fmt: skip
    header = ["answers", "n", *(h for h, _ in ANSWER_COLS), "1st token ms p50/p95", "total ms p50/p95", "tok/s"]
    out += [_table(header, rows, markdown), ""]
    for mode, m in over["answers"].items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(m["outcomes"].items(), key=lambda kv: -kv[1]))
        out.append(f"{'- ' if markdown else ''}{mode} on answerable questions: {counts or '-'}")
    out.append("")
    rmode = "hybrid" if "hybrid" in over["retrieval"] else next(iter(over["retrieval"]), None)
    amode = "llm" if "llm" in over["answers"] else next(reversed(over["answers"]), None)
    rows = []
    for label, group in [*s["by_kind"].items(), *((f"lang:{k}", v) for k, v in s["by_lang"].items())]:
        r, a = group["retrieval"].get(rmode, {}), group["answers"].get(amode, {})
        refused = a.get("correct_refusal") if label == "unanswerable" else a.get("false_refusal")
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(a.get("refusal_reasons", {}).items())) or "-"
        rows.append([label, str(group["n"]), *(_fmt(r.get(k)) for _, k in RETRIEVAL_COLS if k != "recall@10"),
                     *(_fmt(a.get(k)) for _, k in KIND_COLS), _fmt(refused), reasons])  # fmt: skip
    header = [f"by kind ({rmode}, {amode})", "n", *(h for h, k in RETRIEVAL_COLS if k != "recall@10"),
              *(h for h, _ in KIND_COLS), "refused", "refusal reasons"]  # fmt: skip
    return out + [_table(header, rows, markdown), ""]


def render(report: dict, deltas: list, tolerance: float, markdown: bool) -> str:
    """The report's tables, as plain text for the terminal or as Markdown."""
    import json

    out: list[str] = []
    h = (lambda s: f"## {s}") if markdown else (lambda s: f"== {s}")
    models = report["models"]
    if markdown:
        opts = json.dumps(report["options"], ensure_ascii=False)
        out.append(
            f"# rag eval, {report['created']}\n\nembedder `{models['embedder']}`, LLM `{models['llm'] or '-'}`, options `{opts}`\n"
        )
    for name, ds in report["datasets"].items():
        idx, n = ds["index"], ds["summary"]["overall"]
        out.append(h(f"{name}: {ds['questions']} questions ({n['answerable']} answerable), {idx.get('n_docs')} files, "
                     f"{idx.get('n_chunks')} chunks, {ds['seconds']}s, peak RSS {ds['peak_rss_mb']} MiB"))  # fmt: skip
        out += _dataset_tables(ds, markdown)
    if deltas:
        bad = [d for d in deltas if d.regressed(tolerance)]
        out.append(h(f"baseline: {len(deltas)} metrics compared, {len(bad)} below it by more than {tolerance}"))
        rows = [[d.metric, _fmt(d.baseline, 3), _fmt(d.current, 3), f"{d.change:+.3f}", "REGRESSED" if d.regressed(tolerance) else ""]
                for d in deltas if abs(d.change) > 1e-9]  # fmt: skip
        if rows:
            out.append(_table(["metric", "baseline", "now", "change", ""], rows, markdown))
    if markdown:
        out.append("\n" + LEGEND)
    return "\n".join(out) + "\n"
