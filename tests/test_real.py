"""End to end with the real models on the seeds (slow: ~1 min; needs `rag setup`)."""

import json

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from rag.cli import cli

pytestmark = pytest.mark.real
GOLD_BUDAPEST = {("001_f9b850b45a61ace5.txt", 15), ("000_020cd028f121f00f.txt", 9)}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from rag.config import Settings
    from rag.embedding import make_embedder
    from rag.index import build_index
    from rag.pipeline import Pipeline

    idx = tmp_path_factory.mktemp("real") / "index"
    build_index(SEEDS, idx, make_embedder("gemma"))
    return Pipeline.load(Settings(corpus=str(SEEDS), index=str(idx), embedder="gemma"))


def test_who_proposed_budapest_cites_the_summit_line(pipeline):
    a = pipeline.ask("Who proposed Budapest?")
    cited = {(c.file, c.line_start) for c in a.citations}
    assert cited & GOLD_BUDAPEST, a.to_dict()
    assert all(c.quote in "\n".join(pipeline.index.docs[c.file].lines) for c in a.citations)


def test_vietnamese_question_is_answered_from_the_same_lines(pipeline):
    a = pipeline.ask("Ai đề xuất tổ chức hội nghị ở Budapest?")
    assert {(c.file, c.line_start) for c in a.citations} & GOLD_BUDAPEST, a.to_dict()


def test_unanswerable_question_is_refused(pipeline):
    a = pipeline.ask("What is the capital of Australia?")
    assert a.refused and not a.citations, a.to_dict()


def test_cited_lines_were_shown_to_the_model(pipeline):
    for q in ("When did Lavrov and Rubio talk on the phone?", "Cuộc hội đàm giữa Lavrov và Tillerson kéo dài bao lâu?"):
        a = pipeline.ask(q)
        shown = {(e.file, e.start_line) for e in a.evidence}
        assert {(c.file, c.line_start) for c in a.citations} <= shown


def test_cli_json_with_real_models(pipeline):
    idx = str(pipeline.index.path.parent)
    r = CliRunner().invoke(cli, ["--corpus", str(SEEDS), "--index", idx, "ask", "--json", "Ai đề xuất tổ chức hội nghị ở Budapest?"])
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["sources"] and obj["timings_ms"]["total"] > 0


def test_the_cached_system_prompt_survives_a_translation(pipeline):
    """Translating (another system prompt) evicts the answer prompt's cached prefix from the KV
    cache; the next answer must get it back from the saved state, not evaluate it again."""
    from rag.prompt import TRANSLATE

    gen = pipeline.generator
    "".join(gen.stream([{"role": "system", "content": TRANSLATE}, {"role": "user", "content": "Xin chào [1]."}], 8))
    assert not gen._is_cached()
    reused: list[int] = []  # tokens already in the KV cache when each evaluation starts
    inner = gen.llm.eval
    gen.llm.eval = lambda tokens: (reused.append(gen.llm.n_tokens), inner(tokens))[1]
    try:
        pipeline.ask("Cuộc hội đàm giữa Lavrov và Tillerson kéo dài bao lâu?")
    finally:
        gen.llm.eval = inner
    assert reused and reused[0] >= len(gen._prefix), reused
