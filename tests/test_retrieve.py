from rag.embedding import HashingEmbedder
from rag.retrieve import search


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
