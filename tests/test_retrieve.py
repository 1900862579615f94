from rag.answer.retrieve import search
from rag.models.embedding import HashingEmbedder


def test_hybrid_ranks_the_budapest_line_first(hash_index):
    got = search(hash_index, HashingEmbedder(), "hội nghị thượng đỉnh tại Budapest (Hungary)", k=5)
    assert (got.hits[0].file, got.hits[0].start_line) in {("001_f9b850b45a61ace5.txt", 15), ("000_020cd028f121f00f.txt", 9)}
    assert got.keyword_weight > 0.9


def test_keyword_side_is_down_weighted_for_foreign_questions(hash_index):
    vi = search(hash_index, HashingEmbedder(), "Ngoại trưởng Lavrov điện đàm", k=5)
    en = search(hash_index, HashingEmbedder(), "Who did the foreign minister call on the phone?", k=5)
    assert vi.keyword_weight > 0.9 and en.keyword_weight < 0.2


def test_boilerplate_never_appears_in_results(hash_index):
    got = search(hash_index, HashingEmbedder(), "Liverpool Arsenal Ngoại hạng Anh giá vàng", k=20, mode="keyword")
    assert all(not (h.file.startswith("004") and h.start_line >= 38) for h in got.hits)


def test_modes_and_diacritics(hash_index):
    plain = search(hash_index, None, "Tillerson Moscow", k=3, mode="keyword")
    assert plain.hits[0].file.startswith("003")
    folded = search(hash_index, None, "hoi dam 5 gio dong ho", k=3, mode="keyword")  # typed without diacritics
    assert folded.hits[0].file.startswith("003")


def test_unnamed_drops_the_names_the_articles_always_capitalise(hash_index):
    from rag.answer.retrieve import unnamed

    assert unnamed(hash_index, "Lavrov và Tillerson thảo luận những chủ đề chính nào?") == "và thảo luận những chủ đề chính nào"
    assert unnamed(hash_index, "What did Lavrov's ministry say?") == "What did ministry say"  # "What" is no name
    assert unnamed(hash_index, "Hội nghị diễn ra ở đâu?") is None  # "Hội" starts the question and is common


def test_a_question_naming_people_finds_the_line_that_does_not_name_them(hash_index, monkeypatch):
    """The line that answers says "the foreign minister", not "Lavrov": the name-scoped ranking
    (the question without its names, inside the leading articles that carry them) lifts it."""
    import rag.answer.retrieve as R

    q = "What did Lavrov say Russia is ready to do with the United States before the talks with Tillerson?"
    gold = ("003_4c701e3d3db3bbfc.txt", 17)

    def rank(scope_articles: int) -> int:
        monkeypatch.setattr(R, "SCOPE_ARTICLES", scope_articles)
        hits = R.search(hash_index, HashingEmbedder(), q, k=30).hits
        return next(n for n, h in enumerate(hits, 1) if (h.file, h.start_line) == gold)

    assert rank(0) > 10 and rank(2) <= 5


def test_the_name_scope_only_touches_articles_carrying_the_names(hash_index, monkeypatch):
    import rag.answer.retrieve as R

    q = "Bộ Ngoại giao Nga mô tả cuộc thảo luận giữa Lavrov và Rubio thế nào?"
    monkeypatch.setattr(R, "SCOPE_ARTICLES", 0)
    before = {h.chunk_id: h.score for h in R.search(hash_index, HashingEmbedder(), q, k=80).hits}
    monkeypatch.setattr(R, "SCOPE_ARTICLES", 2)
    after = R.search(hash_index, HashingEmbedder(), q, k=80).hits
    lifted = {h.file for h in after if h.score > before.get(h.chunk_id, 0.0) + 1e-12}
    assert lifted and all("Lavrov" in hash_index.article_text(f) and "Rubio" in hash_index.article_text(f) for f in lifted)
    assert after[0].file == "001_f9b850b45a61ace5.txt" and after[0].start_line == 7  # "mang tính xây dựng"


def test_web_addresses_do_not_hide_names(hash_index, seeds_copy, tmp_path):
    """seeds/002 ends with a source link "...-ong-trump-va-ong-putin-...html": counted as words,
    its lower-case slug made Trump and Putin look like common words, and the name checks skipped them."""
    import numpy as np

    from rag.store.keyword import CAPS_VERSION, KeywordIndex

    assert {"putin", "trump", "lavrov"} <= hash_index.keyword.names
    # An index saved before CAPS_VERSION counted the slug: loading it counts again.
    kw = hash_index.keyword
    old = tmp_path / "keyword.npz"
    kw.save(old)
    with np.load(old) as z:
        fields = {k: z[k] for k in z.files if k != "caps_version"}
    fields["cap_counts"][fields["cap_words"].tolist().index("putin"), 1] = 1  # what the old count saw
    np.savez(old, **fields)
    assert KeywordIndex.load(old).caps_version == 1 < CAPS_VERSION and "putin" not in KeywordIndex.load(old).names
    (hash_index.path / "keyword.npz").write_bytes(old.read_bytes())
    from rag.store.index import load_index

    again = load_index(hash_index.path.parent)
    assert again.keyword.caps_version == CAPS_VERSION and {"putin", "trump"} <= again.keyword.names
    # `rag index` over the unchanged corpus saves the recount, so later loads need not count again.
    from rag.store.index import build_index

    report = build_index(seeds_copy, hash_index.path.parent, HashingEmbedder())
    assert report.generation == hash_index.path.name  # no new generation for an unchanged corpus
    assert KeywordIndex.load(hash_index.path / "keyword.npz").caps_version == CAPS_VERSION
    assert not (hash_index.path / "keyword.npz.tmp").exists()
