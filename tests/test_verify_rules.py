"""The verifier's rules, one row each (rag/verify/cite.py): an answer sentence, the question it
answers, and whether its citation survives. Each row is named after what it guards; the scenario
tests in test_cite.py cover how rules combine."""

from __future__ import annotations

import pytest

from rag.answer.prompt import Evidence
from rag.verify.cite import check

L15 = Evidence(1, "001.txt", 15, 15, "Sau cuộc gọi này, Điện Kremlin và Nhà Trắng thông báo hai nhà lãnh đạo đã đồng ý tổ chức một hội nghị thượng đỉnh tại thủ đô Budapest (Hungary).", "Ngoại trưởng Nga và Mỹ điện đàm", "2025-10-21", 0)
L9 = Evidence(2, "000.txt", 9, 9, "Ngoại trưởng Nga Sergey Lavrov cho biết, Moscow vẫn sẵn sàng tổ chức hội nghị thượng đỉnh Nga-Mỹ tại Budapest (Hungary).", "Rubio", "2025-11-13", 1)
L5 = Evidence(3, "003.txt", 5, 5, "Cuộc hội đàm giữa Ngoại trưởng Nga Sergei Lavrov và Ngoại trưởng Mỹ Rex Tillerson tại Moscow đã kết thúc sau năm giờ đồng hồ liên tục.", "Hội đàm 5 giờ", "", 2)
EV = [L15, L9, L5]
NAMES = frozenset({"lavrov", "sergey", "sergei", "budapest", "kremlin", "moscow", "hungary", "putin", "tillerson", "rex"})

ROWS = [
    # (what it guards, answer, question, citation kept)
    ("a-sentence-the-line-states-is-kept", "Điện Kremlin và Nhà Trắng đồng ý tổ chức hội nghị thượng đỉnh tại Budapest [1].", "", True),
    ("a-shown-file-line-tag-is-accepted", "Moscow sẵn sàng tổ chức hội nghị thượng đỉnh tại Budapest [000.txt:9].", "", True),
    ("a-number-the-line-lacks-is-invented", "Hội nghị thượng đỉnh tại Budapest diễn ra ngày 30 [1].", "", False),
    ("a-person-the-line-does-not-name-is-not-supported", "Putin đề xuất Budapest [1].", "Ai đề xuất Budapest?", False),
    ("the-questions-premise-echoed-is-not-an-answer", "Ngoại trưởng Nga Sergey Lavrov đã đề xuất tổ chức hội nghị thượng đỉnh tại Budapest [2].", "Ai đề xuất tổ chức hội nghị ở Budapest?", False),
    ("a-duration-written-as-words-is-supported", "Cuộc hội đàm kéo dài năm giờ đồng hồ [3].", "Cuộc hội đàm kéo dài bao lâu?", True),
    ("a-duration-in-words-the-line-lacks-is-invented", "Cuộc hội đàm kéo dài bảy giờ đồng hồ [3].", "Cuộc hội đàm kéo dài bao lâu?", False),
    ("a-word-garbled-across-scripts-is-dropped", "Moscow sẵn sàng tổ chức hội nghị thượng đỉnh tại Bудapest [2].", "", False),
    ("a-sentence-sending-the-reader-to-the-evidence-says-nothing", "The answer is described in evidence line [1].", "", False),
]


@pytest.mark.parametrize(("answer", "question", "kept"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_rule(answer, question, kept):
    got = check(answer, EV, names=NAMES, question=question)
    assert bool(got.citations) is kept, got


@pytest.mark.parametrize(
    ("sentence", "supported"),
    [
        pytest.param("The talks lasted five hours.", True, id="english-words-for-the-lines-number"),
        pytest.param("The talks lasted seven hours.", False, id="english-words-for-another-number"),
        pytest.param("Cuộc hội đàm kéo dài 5 giờ.", True, id="digits-for-the-lines-words"),
        pytest.param("Đó là một cuộc hội đàm dài.", True, id="mot-cuoc-is-an-article-not-a-count"),
    ],
)
def test_numbers_in_words_are_compared_with_the_line(sentence, supported):
    from rag.verify.cite import numbers_supported

    assert numbers_supported(sentence, L5.text) is supported
