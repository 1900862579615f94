"""rag eval: scoring functions, the dataset adapter, regression checks and the command (fakes only)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rag.evals import datasets, evaluate
from rag.evals.evaluate import Span

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Caches, reports and settings all under tmp_path: no test touches index/ or ~/.cache."""
    monkeypatch.setenv("RAG_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("RAG_EMBEDDER", "RAG_CORPUS", "RAG_INDEX", "RAG_MIN_EVIDENCE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------- answers


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("prediction", "answers", "em", "contains"),
    [
        ("Thúy Hà.", ["Thúy Hà"], 1.0, 1.0),
        (nfd("Thúy Hà"), ["Thúy Hà"], 1.0, 1.0),  # NFD prediction, NFC gold
        ("THÚY HÀ [3]", ["thúy hà"], 1.0, 1.0),  # case and citation markers do not count
        ("Thuy Ha", ["Thúy Hà"], 0.0, 0.0),  # diacritics matter: no folding in scoring
        ("năm 2019", ["nấm 2019"], 0.0, 0.0),
        ("Họ gặp nhau năm 2019 tại Osaka [2].", ["năm 2019", "2019 in Osaka"], 0.0, 1.0),
        ("The articles do not say.", [], 0.0, 0.0),
        ("Reporters", ["RT"], 0.0, 0.0),  # containment is on word boundaries
        ("1,300 km", ["1.300 km"], 1.0, 1.0),  # punctuation inside numbers normalises the same way
    ],
)
def test_exact_match_and_containment(prediction, answers, em, contains):
    assert evaluate.exact_match(prediction, answers) == em
    assert evaluate.contains_answer(prediction, answers) == contains


def test_token_f1_takes_the_best_variant_and_counts_syllables():
    assert evaluate.token_f1("hội nghị thượng đỉnh", ["hội nghị thượng đỉnh song phương", "a summit"]) == pytest.approx(
        2 * 1 * 4 / 6 / (1 + 4 / 6)
    )
    assert evaluate.token_f1("một kết quả cụ thể [1]", ["kết quả cụ thể"]) == pytest.approx(2 * 0.8 * 1 / 1.8)
    assert evaluate.token_f1(nfd("Điện Kremlin"), ["điện kremlin"]) == 1.0
    assert evaluate.token_f1("", ["x"]) == 0.0
    assert evaluate.token_f1("anything", []) == 0.0


# ---------------------------------------------------------------- retrieval and citations

GOLD = (Span("001.txt", 15, 15), Span("000.txt", 9, 9))


def test_rank_recall_and_mrr():
    ranked = [("002.txt", 3, 3), ("001.txt", 14, 14), ("000.txt", 8, 10), ("001.txt", 15, 15)]
    assert evaluate.first_relevant(ranked, GOLD) == 3  # 000.txt:8-10 overlaps 000.txt:9
    assert evaluate.retrieval_scores(3) == {"recall@1": 0.0, "recall@5": 1.0, "recall@10": 1.0, "mrr": pytest.approx(1 / 3)}
    assert evaluate.first_relevant([("003.txt", 15, 15)], GOLD) is None
    assert evaluate.retrieval_scores(None) == {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr": 0.0}
    assert evaluate.retrieval_scores(1)["recall@1"] == 1.0


def test_citation_precision_and_recall():
    assert evaluate.citation_scores([("001.txt", 15, 15), ("002.txt", 1, 1)], GOLD) == (0.5, 1.0)
    assert evaluate.citation_scores([("001.txt", 15, 15)], GOLD, need_all=True) == (1.0, 0.5)
    assert evaluate.citation_scores([], GOLD) == (None, 0.0)


def test_citation_validity():
    shown = [("001.txt", 15, 15), ("000.txt", 9, 9)]
    counts = {"001.txt": 25, "000.txt": 17}
    assert evaluate.citations_valid([("001.txt", 15, 15)], shown, counts)
    assert not evaluate.citations_valid([("001.txt", 16, 16)], shown, counts)  # exists, but was not shown
    assert not evaluate.citations_valid([("001.txt", 40, 40)], [("001.txt", 40, 40)], counts)  # past the end of the file
    assert not evaluate.citations_valid([("nope.txt", 1, 1)], [("nope.txt", 1, 1)], counts)


def test_outcome_says_where_an_answer_ended_and_marks_quoted_lines():
    def scored(refused=False, contains=0.0, hit=True, reason=""):
        return {"refused": refused, "contains": contains, "evidence_hit": hit, "reason": reason}

    assert evaluate.outcome(scored(refused=True, reason="unsupported")) == "refused, gold shown"
    assert evaluate.outcome(scored(refused=True, hit=False)) == "refused, gold not shown"
    assert evaluate.outcome(scored(contains=1.0)) == "right"
    assert evaluate.outcome(scored(hit=False)) == "wrong, gold not shown"
    assert evaluate.outcome(scored(contains=1.0, reason="quoted")) == "right (quoted line)"
    assert evaluate.outcome(scored(reason="quoted")) == "wrong, gold shown (quoted line)"


def test_a_partial_answer_declines_an_unanswerable_question():
    """"No article answers «…». What they report instead: …" is a right reply to a question the
    articles do not answer: `correct_refusal` counts it, `correct_refusal_strict` counts refusals alone."""

    def record(reason, refused):
        answer = {"refused": refused, "reason": reason, "dropped": 0, "valid": None, "evidence_hit": None, "timings_ms": {}}
        return {"answerable": False, "retrieval": {}, "answers": {"llm": answer}}

    got = evaluate.summarize_group([record("partial", False), record("unsupported", True), record("", False), record("quoted", False)])
    assert got["answers"]["llm"]["correct_refusal"] == 0.5 and got["answers"]["llm"]["correct_refusal_strict"] == 0.25


def test_percentile():
    assert evaluate.percentile([], 0.5) is None
    assert evaluate.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert evaluate.percentile([0.0, 10.0], 0.95) == pytest.approx(9.5)


# ---------------------------------------------------------------- regressions


def _report(**metrics) -> dict:
    return {
        "datasets": {
            "seeds": {
                "summary": {
                    "overall": {
                        "retrieval": {"hybrid": {"mrr": metrics.get("mrr", 0.5), "ms_p50": 3.0}},
                        "answers": {
                            "llm": {
                                "f1": metrics.get("f1", 0.5),
                                "false_refusal": metrics.get("false_refusal", 0.1),
                                "total_p50": 900.0,
                            }
                        },
                    }
                }
            }
        }
    }


def test_regression_check():
    base = _report()
    assert not any(d.regressed(0.02) for d in evaluate.compare(_report(mrr=0.49, f1=0.6), base))
    deltas = {d.metric: d for d in evaluate.compare(_report(mrr=0.45, false_refusal=0.2), base)}
    assert set(deltas) == {
        "seeds.retrieval.hybrid.mrr",
        "seeds.answers.llm.f1",
        "seeds.answers.llm.false_refusal",
    }  # no latencies
    assert deltas["seeds.retrieval.hybrid.mrr"].regressed(0.02)
    assert deltas["seeds.answers.llm.false_refusal"].regressed(0.02)  # lower is better: a rise is a regression
    assert not deltas["seeds.answers.llm.false_refusal"].regressed(0.2)
    assert not evaluate.compare(_report(), {"datasets": {}})


# ---------------------------------------------------------------- gold files


def test_load_gold_rejects_bad_rows(tmp_path):
    from rag.errors import ConfigError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q?", "answers": ["a"], "gold": [], "kind": "factual"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unanswerable"):
        evaluate.load_gold(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=":1 is not JSON"):
        evaluate.load_gold(bad)


def test_sample_is_repeatable():
    items = evaluate.load_gold(ROOT / "eval" / "gold" / "seeds.jsonl")
    a, b = evaluate.sample(items, 10, seed=1), evaluate.sample(items, 10, seed=1)
    assert [i.id for i in a] == [i.id for i in b] and len(a) == 10
    assert [i.id for i in evaluate.sample(items, 10, seed=2)] != [i.id for i in a]
    assert evaluate.sample(items, None) == items


# ---------------------------------------------------------------- the dataset adapter

VI_CONTEXT = (
    "Super Bowl 50 là một trận đấu bóng bầu dục Mỹ. Trận đấu diễn ra vào ngày 7 tháng 2 năm 2016 tại sân vận động Levi. "
    "Đội Denver Broncos đã đánh bại Carolina Panthers với tỷ số 24–10!\nĐây là dòng mới."
)
EN_CONTEXT = "Super Bowl 50 was an American football game. It was played on February 7, 2016 at Levi's Stadium."


def _squad(context: str, qas: list[dict], title: str = "Super_Bowl_50") -> dict:
    return {"version": "1.1", "data": [{"title": title, "paragraphs": [{"context": context, "qas": qas}]}]}


@pytest.fixture
def tiny_xquad(tmp_path) -> Path:
    root = tmp_path / "data"
    (root / "xquad").mkdir(parents=True)
    start = VI_CONTEXT.index("Denver Broncos")
    vi = _squad(
        VI_CONTEXT,
        [
            {
                "id": "q1",
                "question": "Trận đấu diễn ra khi nào?",
                "answers": [{"text": "ngày 7 tháng 2 năm 2016", "answer_start": 3}],
            },  # wrong offset
            {"id": "q2", "question": "Đội nào thắng?", "answers": [{"text": "Denver Broncos", "answer_start": start}]},
        ],
    )
    vi["data"].append({"title": "Other", "paragraphs": [{"context": "Một đoạn văn khác về Hà Nội.", "qas": []}]})
    en = _squad(
        EN_CONTEXT,
        [
            {"id": "q1", "question": "When was the game played?", "answers": [{"text": "February 7, 2016", "answer_start": 58}]},
            {"id": "q2", "question": "Which team won?", "answers": [{"text": "Denver Broncos", "answer_start": 0}]},
        ],
    )
    (root / "xquad" / "xquad.vi.json").write_text(json.dumps(vi, ensure_ascii=False), encoding="utf-8")
    (root / "xquad" / "xquad.en.json").write_text(json.dumps(en), encoding="utf-8")
    return root


def test_split_lines_keeps_offsets_and_packs_sentences():
    lines = datasets.split_lines(VI_CONTEXT, max_chars=60)
    texts = [VI_CONTEXT[s:e] for s, e in lines]
    assert texts[0] == "Super Bowl 50 là một trận đấu bóng bầu dục Mỹ."
    assert texts[-1] == "Đây là dòng mới."  # a newline always breaks
    assert all("\n" not in t and t == t.strip() for t in texts)
    assert len(datasets.split_lines(VI_CONTEXT, max_chars=1000)) == 2  # packed up to the newline


def test_locate_falls_back_to_text_when_the_offset_is_wrong():
    where = datasets.locate(VI_CONTEXT, "Levi", 0)
    assert VI_CONTEXT[where[0] : where[1]] == "Levi"
    assert datasets.locate(VI_CONTEXT, "không có", 0) is None


@pytest.mark.parametrize("name", ["xquad-en-vi", "xquad-vi-vi"])
def test_xquad_adapter_writes_corpus_and_gold_lines(tiny_xquad, tmp_path, name):
    prepared = datasets.prepare(name, tmp_path / "cache", root=tiny_xquad)
    files = sorted(p.name for p in prepared.corpus.glob("*.txt"))
    assert files == ["000_00.txt", "001_00.txt"] and prepared.skipped == 0
    by_id = {g["id"]: g for g in prepared.gold}
    for item in prepared.gold:
        span = item["gold"][0]
        lines = (prepared.corpus / span["file"]).read_text(encoding="utf-8").splitlines()
        text = " ".join(lines[span["line_start"] - 1 : span["line_end"]])
        assert any(a in text for a in item["answers"])
        evaluate.gold_item(item)  # valid schema
    if name == "xquad-en-vi":
        assert by_id["q1"]["question"] == "When was the game played?" and by_id["q1"]["lang"] == "en"
        assert by_id["q1"]["answers"] == ["ngày 7 tháng 2 năm 2016", "February 7, 2016"]
        assert by_id["q1"]["kind"] == "date-number"
    else:
        assert by_id["q2"]["question"] == "Đội nào thắng?" and by_id["q2"]["answers"] == ["Denver Broncos"]


def test_limit_samples_the_same_questions_for_both_xquad_directions(tiny_xquad, tmp_path):
    a = datasets.prepare("xquad-en-vi", tmp_path / "c", limit=1, seed=3, root=tiny_xquad)
    b = datasets.prepare("xquad-vi-vi", tmp_path / "c", limit=1, seed=3, root=tiny_xquad)
    assert [g["id"] for g in a.gold] == [g["id"] for g in b.gold] and a.corpus == b.corpus
    assert a.key == "xquad-1-3"
    again = datasets.prepare("xquad-en-vi", tmp_path / "c", limit=1, seed=3, root=tiny_xquad)
    assert again.gold == a.gold


def test_near_miss_empties_the_answer_lines_and_keeps_the_numbering(tiny_xquad, tmp_path):
    plain = datasets.prepare("xquad-en-vi", tmp_path / "c", root=tiny_xquad)
    near = datasets.prepare("xquad-en-vi-nearmiss", tmp_path / "c", root=tiny_xquad)
    assert near.key == "xquad-all-0-nearmiss" and near.corpus != plain.corpus
    lines = (near.corpus / "000_00.txt").read_text(encoding="utf-8").splitlines()
    assert lines == ["", "Đây là dòng mới."]  # both answers were on line 1; line 2 keeps its number
    assert (plain.corpus / "000_00.txt").read_text(encoding="utf-8").splitlines()[1] == "Đây là dòng mới."
    assert sorted(g["id"] for g in near.gold) == ["q1", "q2"] and near.skipped == 0
    for row in near.gold:
        item = evaluate.gold_item(row)
        assert not item.answerable and item.kind == "unanswerable" and item.lang == "en"


def test_near_miss_leaves_out_a_question_whose_answer_is_written_elsewhere(tiny_xquad, tmp_path):
    path = tiny_xquad / "xquad" / "xquad.vi.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["data"][1]["paragraphs"][0]["context"] = "Denver Broncos cũng có mặt ở Hà Nội."
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    near = datasets.prepare("xquad-vi-vi-nearmiss", tmp_path / "c", root=tiny_xquad)
    assert [g["id"] for g in near.gold] == ["q1"] and near.skipped == 1


def test_missing_data_names_the_variable(tmp_path):
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_EVAL_DATA"):
        datasets.prepare("mlqa", tmp_path / "c", root=tmp_path / "nowhere")


# ---------------------------------------------------------------- the runner with a scripted LLM


def test_run_scores_a_scripted_llm_answer(tmp_path):
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.models.embedding import HashingEmbedder
    from rag.models.generate import ScriptedGenerator
    from rag.store.index import build_index, load_index

    emb = HashingEmbedder()
    build_index(ROOT / "seeds", tmp_path / "idx", emb)
    items = [it for it in evaluate.load_gold(ROOT / "eval" / "gold" / "seeds.jsonl") if it.id == "s001"]

    def reply(messages):  # cite the evidence line that names Budapest, quoting it (supported by construction)
        user = messages[-1]["content"]
        for block in user.split("\n[")[1:]:
            number, rest = block.split("]", 1)
            if "Budapest" in rest:
                return rest.split("<<<", 1)[1].split(">>>", 1)[0] + f" [{number}]"
        return "NOT FOUND"

    pipe = Pipeline(
        Settings(corpus=str(ROOT / "seeds"), index=str(tmp_path / "idx"), embedder="hash", answer_step="compose"),
        load_index(tmp_path / "idx"),
        emb,
        ScriptedGenerator(reply),
    )
    records = evaluate.run(pipe, items, ("keyword", "hybrid"), ("extractive", "llm"))
    llm = records[0]["answers"]["llm"]
    assert not llm["refused"] and llm["valid"] is True and llm["citations"]
    assert "tokens_per_s" not in llm  # the scripted generator has no tokenizer
    hybrid = records[0]["retrieval"]["hybrid"]  # retrieval's own scores for its first lines, beside the rank
    assert len(hybrid["fused"]) == len(hybrid["dense"]) == len(hybrid["top"]) and hybrid["fused"] == sorted(hybrid["fused"], reverse=True)
    summary = evaluate.summarize(records)
    assert set(summary["overall"]["retrieval"]) == {"keyword", "hybrid"}
    assert summary["by_kind"]["who-where"]["answers"]["llm"]["valid"] == 1.0


# ---------------------------------------------------------------- the command


@pytest.fixture
def group():
    from rag.cli.main import RagGroup, cli
    from rag.evals.command import eval_command

    if "eval" in cli.commands:
        return cli

    @click.group(cls=RagGroup)
    @click.option("--corpus")
    @click.option("--config")
    @click.option("--embedder")
    def local(corpus, config, embedder):
        pass

    local.add_command(eval_command)
    return local


def test_eval_command_on_seeds_with_fakes(group, tmp_path):
    runner = CliRunner()
    args = ["eval", "--embedder", "hash", "--no-llm", "--limit", "10", "--compare", "--out", str(tmp_path / "reports")]
    result = runner.invoke(group, args)
    assert result.exit_code == 0, result.output
    assert "retrieval" in result.output and "hybrid" in result.output and "by kind" in result.output
    [report_path] = list((tmp_path / "reports").glob("*.json"))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    seeds = report["datasets"]["seeds"]
    assert seeds["questions"] == 10 and len(seeds["records"]) == 10
    assert set(seeds["summary"]["overall"]["retrieval"]) == {"keyword", "dense", "hybrid"}
    assert set(seeds["summary"]["overall"]["answers"]) == {"extractive"}
    assert "files" not in seeds["index"] and seeds["index"]["embedder"]["name"] == "hash-256"
    assert report["models"] == {"embedder": "hash-256", "llm": None}
    assert report_path.with_suffix(".md").is_file()
    assert (tmp_path / "cache" / "seeds" / "index-hash" / "CURRENT").is_file()
    assert not (ROOT / "index-hash").exists()

    # The same run against its own report passes --check; against a better baseline it fails.
    check = ["--baseline", str(report_path), "--check"]
    assert runner.invoke(group, args + check).exit_code == 0
    better = json.loads(report_path.read_text(encoding="utf-8"))
    better["datasets"]["seeds"]["summary"]["overall"]["retrieval"]["hybrid"]["mrr"] += 0.1
    better_path = tmp_path / "better.json"
    better_path.write_text(json.dumps(better), encoding="utf-8")
    failed = runner.invoke(group, args + ["--baseline", str(better_path), "--check"])
    assert failed.exit_code == 1
    assert "REGRESSED" in failed.output and "seeds.retrieval.hybrid.mrr" in failed.output


def test_eval_command_user_errors_exit_2_without_traceback(group):
    result = CliRunner().invoke(group, ["eval", "--embedder", "hash", "--no-llm", "--check"])
    assert result.exit_code == 2 and "--baseline" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(group, ["eval", "--embedder", "hash", "--no-llm", "--dataset", "mlqa", "--gold", "x.jsonl"])
    assert result.exit_code == 2 and "--gold" in result.output


def test_importing_the_command_loads_no_engine():
    import subprocess
    import sys

    code = "import sys, rag.evals.command; print(sorted(m for m in sys.modules if m.startswith(('rag.', 'numpy', 'torch'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # the packages' own __init__ files hold only a docstring; options imports only click
    assert out.strip() == "['rag.cli', 'rag.cli.options', 'rag.evals', 'rag.evals.command', 'rag.evals.paths', 'rag.kinds']"


def test_naive_baseline_trusts_whatever_the_model_cites(tmp_path):
    """The brief's naive pipeline, run by `--compare`: its [file:line] tags are taken as written,
    so a made-up line shows up as an invalid citation instead of being dropped."""
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.evals.baseline import ask_naive
    from rag.models.embedding import HashingEmbedder
    from rag.models.generate import ScriptedGenerator
    from rag.store.index import build_index, load_index

    emb = HashingEmbedder()
    build_index(ROOT / "seeds", tmp_path / "idx", emb)
    gen = ScriptedGenerator("Moscow proposed it [001_f9b850b45a61ace5.txt:15] [001_f9b850b45a61ace5.txt:999].")
    pipe = Pipeline(Settings(corpus=str(ROOT / "seeds"), embedder="hash", answer_step="compose"), load_index(tmp_path / "idx"), emb, gen)
    items = [it for it in evaluate.load_gold(ROOT / "eval" / "gold" / "seeds.jsonl") if it.id == "s001"]
    naive = evaluate.run(pipe, items, ("dense",), ("naive",))[0]["answers"]["naive"]
    assert not naive["refused"] and naive["citations"] == ["001_f9b850b45a61ace5.txt:15", "001_f9b850b45a61ace5.txt:999"]
    assert naive["valid"] is False  # line 999 does not exist
    prompt = gen.calls[0][-1]["content"]
    assert len(re.findall(r"^\[\w+\.txt:\d+\] ", prompt, re.MULTILINE)) == 6  # dense top-6 lines, tagged file:line
    gen.reply = "I don't know."
    assert ask_naive(pipe, "Thủ đô của Úc là gì?").refused


def test_answer_modes_run_one_after_the_other_not_interleaved(tmp_path):
    """Alternating prompts per question would evict the LLM's cached system prompt each time."""
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.models.embedding import HashingEmbedder
    from rag.models.generate import ScriptedGenerator
    from rag.store.index import build_index, load_index

    emb = HashingEmbedder()
    build_index(ROOT / "seeds", tmp_path / "idx", emb)
    gen = ScriptedGenerator("NOT FOUND")
    pipe = Pipeline(Settings(corpus=str(ROOT / "seeds"), embedder="hash", min_evidence=0.0, answer_step="compose"), load_index(tmp_path / "idx"), emb, gen)
    items = [it for it in evaluate.load_gold(ROOT / "eval" / "gold" / "seeds.jsonl") if it.id in ("s002", "s004")]
    seen = []
    evaluate.run(pipe, items, ("hybrid",), ("naive", "llm"), progress=lambda done, total: seen.append((done, total)))
    systems = ["naive" if "[file:line]" in c[0]["content"] else "ours" for c in gen.calls]
    assert systems == ["naive", "naive", "ours", "ours"]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_ablation_modes_leave_one_rule_out_and_replay_the_models_words(hash_index):
    """`rag eval --ablate RULE`: the same questions again with RULE left out; the model is asked once."""
    from conftest import make_pipeline

    from rag.evals.evaluate import WITHOUT, GoldItem, Replaying, run

    def reply(messages):  # the first shown line, word for word, with a date it does not hold
        line = re.search(r"\[1\] [^\n]*\n<<<(.*?)>>>", messages[-1]["content"]).group(1)
        return f"{line.rstrip('. ')} vào ngày 31-12 [1]."

    p = make_pipeline(hash_index, reply)
    item = GoldItem("x", "Khi nào hai ngoại trưởng Nga và Mỹ thảo luận về hội nghị thượng đỉnh?", ("ngày 31-12",), (Span("001_f9b850b45a61ace5.txt", 15, 15),), "date-number", "vi")
    [rec] = run(p, [item], ("hybrid",), ("llm", WITHOUT + "unsupported"))
    kept, left_out = rec["answers"]["llm"], rec["answers"][WITHOUT + "unsupported"]
    assert kept["refused"] and kept["dropped"] == 1  # a number the line lacks: dropped by "unsupported"
    assert not left_out["refused"], left_out
    assert left_out["contains"] == 1.0  # without the rule, the invented date stands
    assert isinstance(p.generator, Replaying) and len(p.generator.inner.calls) == 1 and p.ablate == frozenset()


def test_an_unknown_rule_to_ablate_is_a_usage_error(group):
    result = CliRunner().invoke(group, ["eval", "--embedder", "hash", "--ablate", "no-such-rule"])
    assert result.exit_code == 2 and "unsupported" in result.output and "Traceback" not in result.output


def test_in_english_counts_only_english_gold_in_the_answers_own_words():
    """What an English reader gets: a copied phrase left in Vietnamese, or a gold answer found only
    in the quoted line, is not an English answer."""
    from rag.evals.evaluate import GoldItem, in_english

    item = GoldItem("x", "How long did the talks last?", ("five hours", "5 hours", "năm giờ đồng hồ"), (), "date-number", "en")
    assert in_english("5 hours [1] («Cuộc hội đàm kéo dài năm giờ đồng hồ.»)", item) == 1.0
    assert in_english("Năm giờ đồng hồ [1] («Cuộc hội đàm kéo dài năm giờ đồng hồ.»)", item) == 0.0
    assert in_english("The articles do not say [1] («… lasted 5 hours …»)", item) == 0.0
    vietnamese = GoldItem("y", "Cuộc hội đàm kéo dài bao lâu?", ("năm giờ", "five hours"), (), "date-number", "vi")
    assert in_english("năm giờ [1]", vietnamese) is None
