from dataclasses import replace

from rag.answer.prompt import Evidence
from rag.verify.cite import check, repair_copy, split_sentences

L15 = Evidence(1, "001.txt", 15, 15, "Sau cuộc gọi này, Điện Kremlin và Nhà Trắng thông báo hai nhà lãnh đạo đã đồng ý tổ chức một hội nghị thượng đỉnh tại thủ đô Budapest (Hungary).", "Ngoại trưởng Nga và Mỹ điện đàm", "2025-10-21", 0)
L9 = Evidence(2, "000.txt", 9, 9, "Ngoại trưởng Nga Sergey Lavrov cho biết, Moscow vẫn sẵn sàng tổ chức hội nghị thượng đỉnh Nga-Mỹ tại Budapest (Hungary).", "Rubio", "2025-11-13", 1)
EV = [L15, L9]
NAMES = frozenset({"lavrov", "sergey", "budapest", "kremlin", "moscow", "hungary", "putin"})


def test_markers_map_to_the_lines_shown():
    got = check("Điện Kremlin và Nhà Trắng đồng ý tổ chức hội nghị thượng đỉnh tại Budapest [1]. Moscow sẵn sàng tổ chức hội nghị tại Budapest [2].", EV, names=NAMES)
    assert [(c.file, c.line_start) for c in got.citations] == [("001.txt", 15), ("000.txt", 9)]
    assert got.text.endswith("[2].") and not got.dropped


def test_marker_to_a_line_not_shown_is_never_printed():
    got = check("Hội nghị thượng đỉnh tại Budapest [7]. Xem [secret/../../etc/passwd:1].", EV, names=NAMES)
    assert all(c.file in {"001.txt", "000.txt"} for c in got.citations)
    assert "[7]" in got.invalid_markers


def test_copied_file_line_tags_are_accepted_only_when_shown():
    got = check("Moscow sẵn sàng tổ chức hội nghị thượng đỉnh tại Budapest [000.txt:9].", EV, names=NAMES)
    assert [(c.file, c.line_start) for c in got.citations] == [("000.txt", 9)]
    got = check("Moscow sẵn sàng tổ chức hội nghị thượng đỉnh tại Budapest [000.txt:3].", EV, names=NAMES)
    assert [(c.file, c.line_start) for c in got.citations] == [("000.txt", 9)]  # re-attributed to a shown line


def test_wrong_person_and_invented_numbers_are_dropped():
    got = check("Putin đề xuất Budapest [1].", EV, names=NAMES, question="Ai đề xuất Budapest?")
    assert not got.citations and got.dropped
    got = check("Hội nghị thượng đỉnh tại Budapest diễn ra ngày 30 [1].", EV, names=NAMES)
    assert not got.citations


def test_premise_echo_is_dropped():
    got = check("Ngoại trưởng Nga Sergey Lavrov đã đề xuất tổ chức hội nghị thượng đỉnh tại Budapest [2].", EV, names=NAMES, question="Ai đề xuất tổ chức hội nghị ở Budapest?")
    assert not got.citations


def test_not_found_and_declines():
    assert check("NOT FOUND", EV).said_not_found
    assert check("The article does not mention who proposed Budapest. [1]", EV).said_not_found


def test_cross_lingual_support_uses_similarity():
    sim = lambda s, ev: 0.9 if ev is L15 else 0.1
    got = check("The Kremlin and the White House agreed to hold a summit in Budapest [1].", EV, similarity=sim, names=NAMES)
    assert [c.line_start for c in got.citations] == [15]
    got = check("The leaders agreed to meet in Budapest [2].", EV, similarity=sim, names=NAMES)
    assert [c.line_start for c in got.citations] == [15]  # wrong marker, re-attributed by similarity


def test_split_sentences_keeps_trailing_markers():
    assert split_sentences("A thing. [1] Another thing [2].") == ["A thing [1].", "Another thing [2]."]


def test_numbers_written_as_words_count_as_support():
    line = Evidence(1, "003.txt", 5, 5, "Cuộc hội đàm giữa Lavrov và Tillerson tại Moscow đã kết thúc sau năm giờ đồng hồ liên tục.", "", "", 0)
    names = frozenset({"lavrov", "tillerson", "moscow"})
    got = check("Cuộc hội đàm giữa Lavrov và Tillerson tại Moscow kéo dài 5 giờ [1].", [line], names=names)
    assert [c.line_start for c in got.citations] == [5]
    got = check("Cuộc hội đàm giữa Lavrov và Tillerson tại Moscow kéo dài 7 giờ [1].", [line], names=names)
    assert not got.citations


def test_restating_the_question_is_not_an_answer():
    q = "Tổng thống Zelensky phản ứng thế nào với kế hoạch hòa bình của ông Trump?"
    got = check("Tổng thống Zelensky phản ứng thế nào với kế hoạch hòa bình của ông Trump [1]?", EV, question=q)
    assert not got.citations and got.dropped
    got = check("Officials confirmed the preparations for the Budapest summit:,,, and [1].", EV,
                question="Which officials confirmed that preparations for the Budapest summit were under way?")
    assert not got.citations


def test_did_not_talk_is_an_answer_not_a_decline():
    assert not check("Ông Biden đã không nói chuyện trực tiếp với ông Putin trong gần ba năm [1].", EV).said_not_found
    assert check("Các bài báo không nói ai đề xuất [1].", EV).said_not_found


def test_grounded_names_lower_the_cross_lingual_bar():
    sim = lambda s, ev: 0.40
    got = check("Lavrov said Moscow is ready to host the summit in Budapest [2].", EV, similarity=sim, names=NAMES, min_similarity=0.45)
    assert [c.line_start for c in got.citations] == [9]
    got = check("The leaders agreed to meet [1].", EV, similarity=sim, names=NAMES, min_similarity=0.45)
    assert not got.citations


def test_a_name_the_corpus_never_mentions_is_unsupported():
    vocab = {"tong", "thong", "trump", "budapest", "nga", "hoi", "nghi"}
    got = check("Tổng thống Zelensky ủng hộ hội nghị thượng đỉnh tại Budapest [1].", EV, names=NAMES, known=vocab.__contains__)
    assert not got.citations and got.dropped
    got = check("Điện Kremlin và Nhà Trắng thông báo tổ chức hội nghị thượng đỉnh tại Budapest [1].", EV, names=NAMES,
                known=lambda w: True)
    assert got.citations


def test_a_name_garbled_across_scripts_is_dropped():
    from rag.verify.cite import mixed_script

    assert mixed_script("Bудapest được đề xuất [1].") and not mixed_script("Москва và Budapest [1].")
    got = check("Bудapest đồng ý tổ chức hội nghị thượng đỉnh tại thủ đô Budapest [1].", EV, names=NAMES)
    assert not got.citations and got.dropped


def test_a_byline_supports_an_answer_that_names_what_the_article_is_about():
    byline = Evidence(1, "002.txt", 39, 39, "Tác giả bài báo «Điện Kremlin: Sẽ có hội nghị thượng đỉnh» là THẢO VY.", "Điện Kremlin: Sẽ có hội nghị thượng đỉnh", "2025-02-14", 5)
    answer = "Tác giả bài báo về ông Peskov và hội nghị thượng đỉnh là THẢO VY [1]."
    question = "Ai là tác giả bài báo về ông Peskov và hội nghị thượng đỉnh?"
    names = NAMES | {"peskov"}
    articles = {"002.txt": "Người phát ngôn Điện Kremlin Dmitry Peskov cho biết ..."}
    got = check(answer, [byline], names=names, question=question, article=articles.get)
    assert [(c.file, c.line_start) for c in got.citations] == [("002.txt", 39)]
    assert not check(answer, [byline], names=names, question=question, article={"002.txt": "Không có tên."}.get).citations
    plain = Evidence(1, "002.txt", 3, 3, "Hai nhà lãnh đạo nhất trí chuẩn bị hội nghị thượng đỉnh, THẢO VY viết.", "", "", 2)
    assert not check(answer, [plain], names=names, question=question, article=articles.get).citations  # only bylines


def test_a_number_the_line_holds_lowers_the_cross_lingual_bar():
    line = Evidence(1, "003.txt", 5, 5, "Cuộc hội đàm đã kết thúc sau năm giờ đồng hồ liên tục.", "", "", 0)

    def sim(sentence, ev):
        return 0.43  # an English claim against a long Vietnamese line: below the 0.45 bar

    assert check("The talks lasted 5 hours [1].", [line], sim, min_similarity=0.45).citations
    assert not check("The talks lasted for hours [1].", [line], sim, min_similarity=0.45).citations
    assert not check("The talks lasted 7 hours [1].", [line], sim, min_similarity=0.45).citations  # not in the line


def test_a_bounded_number_must_be_bounded_the_same_way():
    line = Evidence(1, "004.txt", 20, 20, "Người tiền nhiệm Joe Biden đã không nói chuyện trực tiếp với ông Putin trong gần ba năm.", "Trump", "2025-01-23", 0)
    sim = lambda s, ev: 0.9  # even a perfect paraphrase score does not rescue a changed bound
    flipped = check("Trong hơn ba năm, hai nhà lãnh đạo không hề trao đổi trực tiếp với nhau [1].", [line], sim)
    assert not flipped.citations and flipped.dropped
    same = check("Ông Biden đã không nói chuyện trực tiếp với ông Putin trong gần ba năm [1].", [line], sim)
    assert [c.line_start for c in same.citations] == [20]
    plain = check("Ông Biden đã không nói chuyện với ông Putin trong ba năm [1].", [line], sim)
    assert plain.citations  # dropping the bound loses precision but states nothing the line contradicts
    # "khoảng" (about) hedges the line's own figure (blind b014: "rộng khoảng 1.300 km" for "rộng 1.300 km").
    zone = Evidence(1, "004.txt", 36, 36, "Kế hoạch có thể bao gồm một khu vực phi quân sự rộng 1.300 km do quân đội châu Âu tuần tra.", "", "", 0)
    assert check("Khu vực phi quân sự rộng khoảng 1.300 km [1].", [zone]).citations
    assert not check("Khu vực phi quân sự rộng khoảng 1.400 km [1].", [zone]).citations
    assert not check("Khu vực phi quân sự rộng hơn 1.300 km [1].", [zone]).citations
    # A number up to ten may be hedged in the other spelling (blind b001: "khoảng 5 giờ" for "sau năm giờ").
    talks = Evidence(1, "003.txt", 5, 5, "Cuộc hội đàm tại Moscow đã kết thúc sau năm giờ đồng hồ.", "", "", 0)
    assert check("Cuộc hội đàm tại Moscow kéo dài khoảng 5 giờ đồng hồ [1].", [talks]).citations
    assert not check("Cuộc hội đàm tại Moscow kéo dài khoảng 6 giờ đồng hồ [1].", [talks]).citations
    assert not check("Cuộc hội đàm tại Moscow kéo dài hơn 5 giờ đồng hồ [1].", [talks]).citations


def test_a_negative_answer_to_a_yes_no_question_is_an_answer():
    line = Evidence(1, "002.txt", 33, 33, "Ông Peskov không xác nhận cũng không bác bỏ việc Saudi Arabia sẽ đăng cai hội nghị.", "Kremlin", "2025-02-14", 0)
    q = "Ông Peskov có xác nhận Saudi Arabia sẽ đăng cai hội nghị không?"
    got = check("Ông Peskov không xác nhận Saudi Arabia sẽ đăng cai hội nghị [1].", [line], question=q)
    assert [c.line_start for c in got.citations] == [33]
    echo = check("Ông Peskov xác nhận Saudi Arabia sẽ đăng cai hội nghị [1].", [line], question=q)
    assert not echo.citations  # the question's words back as a statement assert nothing


def test_a_common_english_word_is_not_a_name_claim():
    from rag.verify.cite import names_in

    names = frozenset({"company", "tesla", "lavrov"})  # "Company" appears only capitalised in the corpus
    assert names_in("Tesla's company produced electric motors [1].", names) == {"tesla"}
    assert names_in("The Company and Lavrov [1].", names) == {"company", "lavrov"}


L17 = "Kể từ đó, các quan chức Nga, Mỹ và Hungary đều xác nhận công tác chuẩn bị cho sự kiện này đang được tiến hành."


def test_slips_while_copying_a_line_are_put_back_as_the_line_has_them():
    said = "Người lãnh đạo Nga, Mỹ và Hungary đã xác nhận công tác chuẩn bị cho sự kiện này đang được tiến hành."
    fixed, restored = repair_copy(said, L17, NAMES)
    assert fixed == "Các quan chức Nga, Mỹ và Hungary đều xác nhận công tác chuẩn bị cho sự kiện này đang được tiến hành."
    assert restored == [("Người lãnh đạo", "các quan chức"), ("đã", "đều")]
    line = Evidence(1, "004.txt", 20, 20, "Người tiền nhiệm Joe Biden đã không nói chuyện trực tiếp với ông Putin trong gần ba năm.", "", "", 0)
    got = check("Joe Biden đã không nói chuyện trực tiếp với ông Putin trong hơn ba năm [1].", [line], names=NAMES | {"biden", "joe"})
    assert got.text == "Joe Biden đã không nói chuyện trực tiếp với ông Putin trong gần ba năm [1]." and got.repaired == [("hơn", "gần")]


def test_a_name_brought_in_or_the_models_own_wording_is_not_a_slip():
    line = "Ông cho biết, Moscow vẫn sẵn sàng tổ chức hội nghị thượng đỉnh Nga-Mỹ tại Budapest."
    resolved = "Ông Lavrov cho biết, Moscow vẫn sẵn sàng tổ chức hội nghị thượng đỉnh Nga-Mỹ tại Budapest."
    assert repair_copy(resolved, line, NAMES) == (resolved, [])
    own = "Các bên đã thống nhất rằng công tác chuẩn bị đang diễn ra."  # shares too little of the line
    assert repair_copy(own, L17, NAMES) == (own, [])
    english = "Officials of Russia, the US and Hungary all confirmed the preparations were under way."
    assert repair_copy(english, L17, NAMES) == (english, [])


def test_a_line_about_other_people_does_not_borrow_names_from_its_title():
    """seeds/004:20 is about Biden and Putin; its article's title asks about Trump. The 1.5B model
    wrote "Putin and Trump had not spoken for nearly three years" on it: wrong, and no longer passed."""
    names = frozenset({"putin", "trump", "biden", "joe", "nga", "moscow", "rubio", "marco"})
    l20 = Evidence(
        1, "004.txt", 20, 20,
        "Hãng tin này lưu ý rằng, cuộc gọi sẽ là một sự thay đổi đáng kể so với cách tiếp cận của người tiền nhiệm "
        "Joe Biden, người đã không nói chuyện trực tiếp với Tổng thống Nga Putin trong gần ba năm.",
        "Moscow nói gì về cuộc điện thoại với Tổng thống Trump?", "", 0,
    )
    wrong = "Ông Putin và ông Trump đã không nói chuyện trực tiếp với nhau trong gần ba năm [1]."
    assert check(wrong, [l20], names=names).citations == []
    # A line that names no one still takes its subject from the title ...
    he = Evidence(1, "004.txt", 22, 22, "Ông nói rằng cuộc gọi sẽ diễn ra trong vài ngày tới.", "Moscow nói gì về cuộc điện thoại với Tổng thống Trump?", "", 0)
    assert check("Ông Trump nói rằng cuộc gọi sẽ diễn ra trong vài ngày tới [1].", [he], names=names).citations
    # ... and a line naming "Rubio" the rest of the title's "Marco Rubio".
    rubio = Evidence(1, "000.txt", 7, 7, "Ngoại trưởng Rubio nói rằng lần tới phải có một kết quả cụ thể.", "Ngoại trưởng Marco Rubio: Cuộc gặp thượng đỉnh Nga-Mỹ", "", 0)
    assert check("Ngoại trưởng Marco Rubio nói rằng lần tới phải có một kết quả cụ thể [1].", [rubio], names=names).citations


def test_a_line_that_holds_the_answer_vouches_for_the_names_the_question_gives():
    """s020: "Ông Peskov mô tả cuộc điện đàm giữa ông Putin và ông Trump là gì?" The answer is in
    seeds/002:9, which names Peskov only; the call's Putin and Trump are in its article. The check
    used to move the citation to 002:5, a line naming all three that does not hold the answer."""
    names = frozenset({"putin", "trump", "biden", "joe", "nga", "my", "peskov", "dmitry", "kremlin", "dien", "moscow"})
    question = "Ông Peskov mô tả cuộc điện đàm giữa ông Putin và ông Trump là gì?"
    title = "Điện Kremlin: Sẽ có hội nghị thượng đỉnh giữa ông Trump và ông Putin"
    l9 = Evidence(1, "002.txt", 9, 9, "Phát biểu trước báo giới sau cuộc điện đàm, ông Peskov mô tả cuộc gọi là “một cuộc trao đổi rất quan trọng.”", title, "", 0)
    l5 = Evidence(
        2, "002.txt", 5, 5,
        "Ngày 13-2, người phát ngôn Điện Kremlin Dmitry Peskov nói rằng rất khó để đánh giá hết tầm quan trọng của cuộc "
        "điện đàm mới đây giữa Tổng thống Nga Vladimir Putin và Tổng thống Mỹ Donald Trump.",
        title, "", 0,
    )
    article = {"002.txt": title + "\n" + l5.text + "\n" + l9.text}.get
    answer = "Ông Peskov mô tả cuộc điện đàm giữa ông Putin và ông Trump là “một cuộc trao đổi rất quan trọng” [1]."
    got = check(answer, [l9, l5], names=names, question=question, article=article)
    assert [(c.file, c.line_start) for c in got.citations] == [("002.txt", 9)]
    # A follow-up's names come from the turn before it (s059).
    follow = "Ông ấy mô tả cuộc điện đàm ngày 12-2 như thế nào?"
    before = "Ai là người phát ngôn Điện Kremlin? Người phát ngôn Điện Kremlin là ông Dmitry Peskov."
    said = "Người phát ngôn Điện Kremlin Dmitry Peskov mô tả cuộc gọi là “một cuộc trao đổi rất quan trọng” [1]."
    got = check(said, [l9, l5], names=names, question=follow, context=before, article=article)
    assert [(c.file, c.line_start) for c in got.citations] == [("002.txt", 9)]
    # Names the answer adds from another line of the article ("Điện Kremlin Dmitry Peskov", 002:5):
    # both lines are cited, the one holding the quote first (in the TUI, 002:5 alone was cited).
    titled = "Người phát ngôn Điện Kremlin Dmitry Peskov mô tả cuộc gọi là “một cuộc trao đổi rất quan trọng” [1]."
    got = check(titled, [l9, l5], names=names, question=question, article=article)
    assert [(c.file, c.line_start) for c in got.citations] == [("002.txt", 9), ("002.txt", 5)]
    # ... but only to complete the quoting line's own names: Ushakov's line with Peskov's name is wrong.
    ushakov = Evidence(
        1, "004.txt", 10, 10,
        "Trong cuộc trò chuyện với các phóng viên vào ngày 21/1/2025, ông Yuri Ushakov - Trợ lý chính sách đối ngoại của "
        "Tổng thống Nga Vladimir Putin, đã đề cập đến các gần đây của giới truyền thông cho rằng, chính quyền của Tổng thống "
        "Mỹ mới nhậm chức Donald Trump đang xem xét khả năng tổ chức một cuộc gặp trực tiếp với Tổng thống Nga Vladimir Putin.",
        "Moscow nói gì về cuộc điện thoại với Tổng thống Trump?", "", 0,
    )
    peskov = Evidence(
        2, "004.txt", 24, 24,
        "Người phát ngôn Điện Kremlin Dmitry Peskov sau đó cho biết, ông Putin sẵn sàng đàm phán với ông Trump mà không cần bất kỳ điều kiện tiên quyết nào.",
        ushakov.title, "", 1,
    )
    text4 = {"004.txt": ushakov.title + "\n" + ushakov.text + "\n" + peskov.text}.get
    wrong = "Người phát ngôn Điện Kremlin Dmitry Peskov đã nói với các phóng viên vào ngày 21/1/2025 [1]."
    before = "Ông Peskov mô tả cuộc điện đàm giữa ông Putin và ông Trump là gì? " + titled
    close = lambda sentence, ev: 0.7 if ev is ushakov else 0.2  # the embedder: same event, same date
    got = check(
        wrong, [ushakov, peskov], close, names=names | {"ushakov", "yuri", "vladimir", "donald"},
        question="When did Ushakov talk to reporters?", context=before, article=text4,
    )
    assert got.citations == []  # seen in the TUI, asked after the Peskov question
    # A question that names someone is not a follow-up: the turn before gives it nothing.
    he = Evidence(1, "004.txt", 30, 30, "Ông nói với các phóng viên vào ngày 21/1/2025 rằng Moscow sẵn sàng.", ushakov.title, "", 0)
    text4b = {"004.txt": text4("004.txt") + "\n" + he.text}.get
    said = "Ông Peskov nói với các phóng viên vào ngày 21/1/2025 rằng Moscow sẵn sàng [1]."
    assert check(said, [he], names=names, question="Ông Peskov nói gì?", context=before, article=text4b).citations
    assert not check(said, [he], names=names | {"ushakov"}, question="Ông Ushakov nói gì?", context=before, article=text4b).citations
    # Only names the question gives: a name the answer adds still has to be in the line.
    added = "Ông Peskov và ông Biden mô tả cuộc điện đàm giữa ông Putin và ông Trump là “một cuộc trao đổi rất quan trọng” [1]."
    assert [(c.file, c.line_start) for c in check(added, [l9], names=names, question=question, article=article).citations] == []
    # A line that names someone else (Biden) vouches for nobody the question gives.
    l20 = Evidence(
        1, "004.txt", 20, 20,
        "Cuộc gọi sẽ là một sự thay đổi so với người tiền nhiệm Joe Biden, người đã không nói chuyện với Tổng thống Nga Putin trong gần ba năm.",
        "Moscow nói gì về cuộc điện thoại với Tổng thống Trump?", "", 0,
    )
    asked = "Trước cuộc gọi tuần trước, ông Putin và ông Trump đã không nói chuyện với nhau bao lâu?"
    wrong = "Ông Putin và ông Trump đã không nói chuyện với nhau trong gần ba năm [1]."
    assert check(wrong, [l20], names=names, question=asked, article=lambda f: l20.title + "\n" + l20.text).citations == []


def test_names_in_another_sentence_of_the_line_do_not_stop_it_vouching():
    """XQuAD vi: "Andy Taylor, người sinh ra ở Newcastle, là cựu guitar chính của ban nhạc nào?"
    answered rightly from a line that says "sinh ra ở đây" and, in its next sentence, names Brian
    Johnson. The line names no one beyond the question and the answer where it holds the answer."""
    names = frozenset({"andy", "taylor", "duran", "newcastle", "brian", "johnson", "geordie"})
    line = Evidence(
        1, "022.txt", 4, 4,
        "Andy Taylor, cựu tay guitar chính của Duran Duran được sinh ra ở đây vào năm 1961. "
        "Brian Johnson là thành viên của ban nhạc rock địa phương Geordie.",
        "", "", 0,
    )
    article = {"022.txt": "Newcastle là một thành phố.\n" + line.text}.get
    question = "Andy Taylor, người sinh ra ở Newcastle, là cựu guitar chính của ban nhạc nào?"
    right = "Andy Taylor, người sinh ra ở Newcastle, là cựu guitar chính của Duran Duran [1]."
    assert check(right, [line], names=names, question=question, article=article).citations
    # The sentence that holds the answer still may not name someone else.
    other = replace(line, text="Andy Taylor và Brian Johnson, cựu tay guitar chính của Duran Duran, được sinh ra ở đây.")
    assert check(right, [other], names=names, question=question, article={"022.txt": "Newcastle.\n" + other.text}.get).citations == []


def test_a_question_may_name_someone_by_the_role_the_article_gives_them():
    """heldout h007: "... người phát ngôn Điện Kremlin khuyến cáo điều gì?" is answered by 002:29,
    which says "ông Peskov"; the article calls him "người phát ngôn Điện Kremlin Dmitry Peskov"
    (002:5). The right answer was refused: the line named someone the question did not."""
    names = frozenset({"putin", "trump", "nga", "my", "peskov", "dmitry", "kremlin", "dien", "ukraine", "ushakov", "yuri"})
    title = "Điện Kremlin: Sẽ có hội nghị thượng đỉnh giữa ông Trump và ông Putin"
    l29 = Evidence(1, "002.txt", 29, 29, "Về khả năng trao đổi lãnh thổ với Ukraine, ông Peskov khuyến cáo không nên “đi quá xa” trong các dự đoán.", title, "", 0)
    l5 = "Ngày 13-2, người phát ngôn Điện Kremlin Dmitry Peskov nói rằng rất khó để đánh giá hết tầm quan trọng của cuộc điện đàm."
    question = "Về khả năng trao đổi lãnh thổ với Ukraine, người phát ngôn Điện Kremlin khuyến cáo điều gì?"
    answer = "Người phát ngôn Điện Kremlin khuyến cáo không nên “đi quá xa” trong các dự đoán [1]."
    got = check(answer, [l29], names=names, question=question, article={"002.txt": f"{title}\n{l5}\n{l29.text}"}.get)
    assert [(c.file, c.line_start) for c in got.citations] == [("002.txt", 29)]
    # An article that never gives Peskov that role does not let his line speak for the Kremlin ...
    apart = "Ngày 13-2, Điện Kremlin cho biết ông Dmitry Peskov sẽ phát biểu."
    assert check(answer, [l29], names=names, question=question, article={"002.txt": f"{title}\n{apart}\n{l29.text}"}.get).citations == []
    # ... nor does a name written before the question's ("Yuri Ushakov Điện Kremlin" names Ushakov first).
    l30 = replace(l29, text=l29.text.replace("ông Peskov", "ông Ushakov"))
    before = "Ngày 13-2, Yuri Ushakov Điện Kremlin nói."
    got = check(answer, [l30], names=names, question=question, article={"002.txt": f"{title}\n{before}\n{l30.text}"}.get)
    assert got.citations == []

def test_numbers_the_question_gives_need_not_be_in_the_line_that_answers():
    """ViNewsQA 1694: the answer repeats "Thông tư số 03" from the question; the line that holds
    146 -> 640 says "thông tư vừa ban hành". A number of the answer's own must still be there."""
    line = Evidence(
        1, "186.txt", 4, 4,
        "Điểm mới trong thông tư vừa ban hành là tăng từ 146 loại thuốc lên 640 loại trong danh mục thuốc sản xuất trong nước.",
        "", "", 0,
    )
    article = {"186.txt": "Bộ Y tế vừa ban hành Thông tư số 03 về danh mục thuốc sản xuất trong nước.\n" + line.text}.get
    question = "Số thuốc được sản xuất trong nước tăng lên bao nhiêu sau khi Thông tư số 03 được ban hành?"
    said = "Số thuốc được sản xuất trong nước tăng từ 146 loại lên 640 loại sau khi Thông tư số 03 được ban hành [1]."
    assert check(said, [line], question=question, article=article).citations
    invented = said.replace("640", "650")
    assert not check(invented, [line], question=question, article=article).citations
    # Given by the question but in no line of the article: still unsupported.
    elsewhere = said.replace("03", "07")
    assert not check(elsewhere, [line], question=question.replace("03", "07"), article=article).citations


def test_listed_markers_leave_no_stray_commas():
    """s052: the model wrote "... trong các bài báo [1], [2], và [3]." and the answer read "bài báo,, và"."""
    ev = [
        Evidence(1, "a.txt", 1, 1, "Ngoại trưởng Mỹ Marco Rubio điện đàm với ông Lavrov.", "", "", 0),
        Evidence(2, "a.txt", 2, 2, "Ngoại trưởng Mỹ Rex Tillerson hội đàm với ông Lavrov.", "", "", 1),
    ]
    got = check("Marco Rubio và Rex Tillerson đã hội đàm hoặc điện đàm với ông Lavrov [1], [2], và [1].", ev)
    assert got.text == "Marco Rubio và Rex Tillerson đã hội đàm hoặc điện đàm với ông Lavrov [1] [2]."
    assert check("Rubio và Tillerson đã hội đàm với ông Lavrov [1] and [2].", ev).text.endswith("Lavrov [1] [2].")


def test_a_who_question_is_not_answered_with_its_own_people():
    """heldout h026: "Theo ông Lavrov, ai từ lâu đã ủng hộ đối thoại với Nga ...?" was answered
    "Theo ông Lavrov, ông Sergei Lavrov từ lâu đã ủng hộ ..." from a line about Trump."""
    names = frozenset({"lavrov", "sergei", "trump", "donald", "nga", "my", "ukraine"})
    line = Evidence(
        1, "000.txt", 13, 13,
        "Ông Sergei Lavrov nói Tổng thống Mỹ Donald Trump từ lâu đã ủng hộ đối thoại với Nga và tìm cách hiểu rõ lập trường của Nga về vấn đề Ukraine.",
        "", "", 0,
    )
    question = "Theo ông Lavrov, ai từ lâu đã ủng hộ đối thoại với Nga và tìm cách hiểu rõ lập trường của Nga về vấn đề Ukraine?"
    wrong = "Theo ông Lavrov, ông Sergei Lavrov từ lâu đã ủng hộ đối thoại với Nga và tìm cách hiểu rõ lập trường của Nga về vấn đề Ukraine [1]."
    assert check(wrong, [line], names=names, question=question).citations == []
    right = "Theo ông Lavrov, Tổng thống Mỹ Donald Trump từ lâu đã ủng hộ đối thoại với Nga [1]."
    assert check(right, [line], names=names, question=question).citations
    # "Who is X?" asks what X is: an answer naming only X is fine.
    who_is = "Ông Sergei Lavrov nói về lập trường của Nga về vấn đề Ukraine [1]."
    assert check(who_is, [line], names=names, question="Ông Lavrov là ai?").citations


def test_a_follow_up_who_question_may_be_answered_with_someone_of_a_named_country():
    """blind b034, after "Ngoại trưởng Mỹ Marco Rubio nói gì về cuộc gặp thượng đỉnh Nga-Mỹ?":
    "Ông ấy có nhắc tới một cuộc điện đàm hôm 20/10, đó là với ai?" was answered rightly, "... với
    ngoại trưởng Nga Sergey Lavrov", and refused twice over: "ấy" and "hôm" were taken for words of
    the question's premise that the line lacks, and "Nga Sergey Lavrov" for one of the question's
    own people because the turn before names Nga."""
    names = frozenset({"lavrov", "sergey", "rubio", "marco", "nga", "my"})
    line = Evidence(
        1, "001.txt", 5, 5,
        "Ngày 20-10, Ngoại trưởng Nga Sergey Lavrov đã có cuộc điện đàm với Ngoại trưởng Mỹ Marco Rubio.", "", "", 0,
    )
    before = "Ngoại trưởng Mỹ Marco Rubio nói gì về cuộc gặp thượng đỉnh Nga-Mỹ sắp tới?"
    question = "Ông ấy có nhắc tới một cuộc điện đàm hôm 20/10, đó là với ai?"
    right = "Người ấy đã nhắc tới một cuộc điện đàm hôm 20/10 với ngoại trưởng Nga Sergey Lavrov [1]."
    assert check(right, [line], names=names, question=question, context=before).citations
    # Still refused: the question's own man as the answer, and a premise verb the line lacks.
    own = "Người ấy đã nhắc tới một cuộc điện đàm hôm 20/10 với Ngoại trưởng Mỹ Marco Rubio [1]."
    assert check(own, [line], names=names, question=question, context=before).citations == []
    premise = "Ông ấy đã hủy một cuộc điện đàm hôm 20/10 với ngoại trưởng Nga Sergey Lavrov [1]."
    assert check(premise, [line], names=names, question=question.replace("nhắc tới", "hủy"), context=before).citations == []


def test_an_english_answer_repeating_the_questions_act_needs_a_line_that_states_it():
    """s001, the brief's own question: "Who proposed Budapest?" was answered "Moscow proposed
    Budapest", citing Lavrov's "Moscow vẫn sẵn sàng tổ chức ... tại Budapest": ready to host is
    not proposed. The embedding cannot tell the two apart (0.47 vs 0.47 for "rejected")."""
    sim = lambda s, ev: 0.8
    question = "Who proposed Budapest?"
    got = check("Moscow proposed Budapest [2].", EV, similarity=sim, names=NAMES, question=question)
    assert got.citations == [] and got.dropped
    # The same in the Vietnamese an English question is first answered in.
    got = check("Moscow đã đề xuất Budapest làm nơi tổ chức [2].", EV, similarity=sim, names=NAMES, question=question)
    assert got.citations == [] and got.dropped
    got = check("The Kremlin and the White House agreed to hold a summit in Budapest [1].", EV, similarity=sim, names=NAMES, question=question)
    assert [c.line_start for c in got.citations] == [15]
    said = replace(L9, text="Ngoại trưởng Nga Sergey Lavrov đề xuất tổ chức hội nghị thượng đỉnh Nga-Mỹ tại Budapest.")
    got = check("Lavrov proposed Budapest [2].", [L15, said], similarity=sim, names=NAMES, question=question)
    assert [c.line_start for c in got.citations] == [9]
    # "found" is "find" as often as "found a company": only "founded", "founder" ... are checked.
    assert check("Lavrov found Budapest ready [2].", EV, similarity=sim, names=NAMES, question="Who found Budapest ready?").citations
    assert not check("Lavrov founded Budapest [2].", EV, similarity=sim, names=NAMES, question="Who founded Budapest?").citations


def test_an_initial_does_not_end_a_sentence():
    assert split_sentences("Nixon bổ nhiệm William E. Simon làm quản lý [1]. Câu sau.") == ["Nixon bổ nhiệm William E. Simon làm quản lý [1].", "Câu sau."]




def test_an_english_sentence_names_no_institution_or_office_its_article_does_not_write():
    # The model wrote English where it was asked for Vietnamese: "the United Nations" rested on a
    # line that names no meeting place at all (session 35). The lines' own institutions pass.
    close = lambda sentence, ev: 0.9  # meaning is not what is tested here
    articles = {"001.txt": L15.text}
    kept = check("The Kremlin and the White House announced a summit in Budapest [1].", [L15], close, names=NAMES, article=articles.get)
    assert [c.line_start for c in kept.citations] == [15]
    made_up = check("The United Nations announced a summit in Budapest [1].", [L15], close, names=NAMES, article=articles.get)
    assert not made_up.citations and made_up.dropped_by == ["names-not-covered"]
    office = check("Prime Minister Budapest announced a summit [1].", [L15], close, names=NAMES, article=articles.get)
    assert not office.citations and office.dropped_by == ["names-not-covered"]
    # a name the article itself writes in English ("Saudi Arabia", not "Ả Rập Saudi") is its own
    l33 = Evidence(1, "002.txt", 33, 33, "Người phát ngôn Điện Kremlin không xác nhận hay bác bỏ phát ngôn của ông Trump về việc Saudi Arabia sẽ đăng cai hội nghị thượng đỉnh.", "", "", 0)
    host = check("Saudi Arabia [1].", [l33], close, names=NAMES | {"saudi", "arabia"}, article={"002.txt": l33.text}.get)
    assert [c.line_start for c in host.citations] == [33]
