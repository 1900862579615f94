"""End to end with the real models on the seeds (slow: ~1 min; needs `rag setup`)."""

import json

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from rag.cli.main import cli

pytestmark = pytest.mark.real
GOLD_BUDAPEST = {("001_f9b850b45a61ace5.txt", 15), ("000_020cd028f121f00f.txt", 9)}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.models.embedding import make_embedder
    from rag.store.index import build_index

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


def test_an_answer_records_the_models_own_confidence(pipeline):
    """`read` (docs/verification.md): the reader's probability that its line does not answer and
    its copy's, for an English copy; the composer's probability of NOT FOUND, for a composed answer."""
    copied = pipeline.ask("When did Lavrov and Rubio talk on the phone?")
    assert 0 <= copied.read["p_none"] <= 1 and 0 < copied.read["will"] <= 1, copied.to_dict()
    composed = pipeline.ask("Cuộc hội đàm giữa Lavrov và Tillerson kéo dài bao lâu?")
    assert 0 <= composed.read["p_not_found"] < 0.5, composed.to_dict()  # it answers: NOT FOUND was unlikely


def test_cli_json_with_real_models(pipeline):
    idx = str(pipeline.index.path.parent)
    r = CliRunner().invoke(cli, ["--corpus", str(SEEDS), "--index", idx, "ask", "--json", "Ai đề xuất tổ chức hội nghị ở Budapest?"])
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["sources"] and obj["timings_ms"]["total"] > 0


def test_the_cached_system_prompt_survives_a_translation(pipeline):
    """Translating (another system prompt) evicts the answer prompt's cached prefix from the KV
    cache; the next answer must get it back from the saved state, not evaluate it again."""
    from rag.answer.prompt import TRANSLATE

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


def test_each_fixed_system_message_has_its_state_saved_once(pipeline, tmp_path):
    """`rag setup` (and loading the model) saves the state after every fixed system message, so
    no first question of a kind evaluates one; a state already saved is not evaluated again."""
    from rag.answer.pipeline import prompt_systems

    gen = pipeline.generator
    systems = prompt_systems()
    assert len(set(systems)) == len(systems) == 5
    evaluated: list[int] = []
    inner = gen.llm.eval
    gen.llm.eval = lambda tokens: (evaluated.append(len(tokens)), inner(tokens))[1]
    try:
        assert gen.prepare(systems[-2:], tmp_path) == 2 and len(list(tmp_path.glob("prompt-state-*.pkl"))) == 2
        assert gen.prepare(systems[-2:], tmp_path) == 0 and len(evaluated) == 2  # nothing evaluated again
    finally:
        gen.llm.eval = inner
    # the shipped cache beside the model holds them all (the pipeline's load prepared them)
    assert gen.prepare(systems) == 0


def test_asking_the_same_question_again_gives_the_same_answer(pipeline):
    """llama.cpp reuses the longest prefix a prompt shares with the one before; logits computed
    over another split of the same tokens differ in the last bits, and "Ai đề xuất tổ chức hội nghị
    thượng đỉnh ở Budapest?" asked twice in a row during an eval run got "Ngoại trưởng Marco Rubio
    đã đề xuất ..." and then "Đề xuất tổ chức hội nghị thượng đỉnh ở Budapest là Moscow". Whether
    the last bits flip the answer depends on what came before, so the test checks the cause: the
    second ask starts from the system message's state alone."""
    q = "Ai đề xuất tổ chức hội nghị thượng đỉnh ở Budapest?"
    gen = pipeline.generator
    first = pipeline.ask(q).raw
    # tokens already in the KV cache when each evaluation starts, and the system message's length
    # then (an answer may switch system messages: a failed Vietnamese answer is copied by the reader)
    reused: list[tuple[int, int]] = []
    inner = gen.llm.eval
    gen.llm.eval = lambda tokens: (reused.append((gen.llm.n_tokens, len(gen._prefix))), inner(tokens))[1]
    try:
        again = pipeline.ask(q).raw
    finally:
        gen.llm.eval = inner
    assert reused[0][0] == reused[0][1], reused  # the system message only, not the previous prompt
    assert again == first


def test_a_banned_character_is_never_generated(pipeline):
    """The answer prompt bans "?" (rag.answer.pipeline.NO_QUESTION): the model's own translation of a
    question ends with one, and with the ban it does not."""
    from rag.answer.pipeline import NO_QUESTION
    from rag.answer.prompt import TRANSLATE

    gen = pipeline.generator
    msgs = [{"role": "system", "content": TRANSLATE}, {"role": "user", "content": "Ai đề xuất tổ chức hội nghị ở Budapest?"}]
    assert "?" in "".join(gen.stream(msgs, 24))
    banned = "".join(gen.stream(msgs, 24, ban=NO_QUESTION))
    assert banned.strip() and "?" not in banned


def test_a_timeline_of_contacts_is_dated_cited_and_in_order(pipeline):
    """The list issue's own question: every item cites a line that reports a call or meeting (its
    quote is the line), the 20 October call is dated from the article's date line, and resolved
    dates come in calendar order before the unresolved."""
    a = pipeline.ask("What contacts between Russian and US officials do the articles report, in order?")
    assert a.shape == "timeline" and len(a.items) >= 3, a.to_dict()
    for item in a.items:
        assert item.citations and all(c.quote in "\n".join(pipeline.index.docs[c.file].lines) for c in item.citations)
    cited = {(c.file, c.line_start) for c in a.citations}
    assert ("001_f9b850b45a61ace5.txt", 5) in cited  # "Ngày 20-10, ... điện đàm"
    oct20 = next(it for it in a.items if ("001_f9b850b45a61ace5.txt", 5) in {(c.file, c.line_start) for c in it.citations})
    assert oct20.date is not None and oct20.date.iso == "2025-10-20"
    keys = [it.date.day for it in a.items if it.date and it.date.resolved]
    assert keys == sorted(keys)
    seen_unresolved = False
    for it in a.items:
        resolved = bool(it.date and it.date.resolved)
        assert not (seen_unresolved and resolved), "a resolved date after an unresolved one"
        seen_unresolved |= not resolved


def test_the_shipped_probe_reads_the_seeds_as_news_and_written_instructions_as_instructions(pipeline):
    """rag/verify/instruction_probe.npz is for EmbeddingGemma: a missing, stale or mismatched file
    (retrained on other vectors) would flag news or miss what it was trained to read."""
    import numpy as np
    from conftest import REPO

    from rag.verify import probe
    from rag.verify.guard import is_instruction

    learned = probe.load(pipeline.index.embedder_name)
    assert learned is not None, "rag/verify/instruction_probe.npz is missing or was trained on another embedder"
    assert pipeline.instruction_chunks() == frozenset()  # every seed line is news
    path = REPO / "eval" / "adversarial" / "train-instructions.jsonl"
    lines = [json.loads(x)["line"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    by_probe = learned.flags(pipeline.embedder.embed_documents(lines))
    either = by_probe | np.array([is_instruction(line) for line in lines])
    assert by_probe.mean() >= 0.8 and either.mean() >= 0.9, (by_probe.mean(), either.mean())  # measured: 0.83 and 0.94


def test_decoding_without_drafts_is_llama_cpp_pythons_own(pipeline):
    """`stream` runs its own greedy loop (to add prompt-lookup drafts); with drafts off it must
    write exactly what llama-cpp-python's create_chat_completion writes with the same settings."""
    from rag.answer.pipeline import NO_QUESTION
    from rag.answer.prompt import SYSTEM

    gen = pipeline.generator
    evidence = "\n".join(pipeline.index.docs["001_f9b850b45a61ace5.txt"].lines[14:16])
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{evidence}\nAi đề xuất tổ chức hội nghị ở Budapest?"}]
    draft, gen.draft = gen.draft, 0
    try:
        ours = "".join(gen.stream(msgs, 48, ban=NO_QUESTION))
    finally:
        gen.draft = draft
    gen._from_system(msgs)
    parts = gen.llm.create_chat_completion(
        messages=msgs, stream=True, temperature=0.0, top_k=1, max_tokens=48, repeat_penalty=1.05, logit_bias=gen.banned(NO_QUESTION)
    )
    theirs = "".join(p["choices"][0].get("delta", {}).get("content") or "" for p in parts)
    assert ours and ours == theirs


def test_drafts_from_the_prompt_save_decoding_steps(pipeline):
    """A reply that quotes its prompt is decoded in fewer steps than it has tokens, the same on
    every run, and nothing drafted but not written is left in the KV cache."""
    from rag.models.generate import chat_prompt

    gen = pipeline.generator
    line = pipeline.index.docs["001_f9b850b45a61ace5.txt"].lines[14]
    msgs = [{"role": "system", "content": "Repeat the user's text exactly."}, {"role": "user", "content": line}]
    n_prompt = len(gen.llm.tokenize(chat_prompt(msgs).encode(), add_bos=False, special=True))
    steps: list[int] = []
    inner = gen.llm._ctx.decode
    gen.llm._ctx.decode = lambda batch: (steps.append(1), inner(batch))[1]
    try:
        first = "".join(gen.stream(msgs, 40))
    finally:
        gen.llm._ctx.decode = inner
    written = gen.count_tokens(first)
    assert first and len(steps) < written * 0.7, (len(steps), written, first)
    kept = gen.llm.detokenize(list(gen.llm._input_ids[n_prompt:])).decode("utf-8", "ignore")
    assert first.startswith(kept) and len(kept) >= len(first) - 12, (kept, first)  # no drafted token left over
    assert "".join(gen.stream(msgs, 40)) == first
