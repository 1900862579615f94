"""List and timeline answers: dates read from lines, question shapes, item selection, merging and
order (scripted model, hashing embedder), the JSON and Markdown outputs, and the list scorer."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import make_pipeline

from rag.answer import listing
from rag.dates import Period, asked_period, event_date, sort_key
from rag.evals import lists as list_eval
from rag.question import analyse
from rag.terminal import markdown

OCT21 = date(2025, 10, 21)


@pytest.mark.parametrize(
    "line, article, iso, shown",
    [
        ("Ngày 20-10, Ngoại trưởng Nga Sergey Lavrov đã có cuộc điện đàm", OCT21, "2025-10-20", "20 October 2025"),
        ("ông Putin và ông Trump tuần trước có cuộc nói chuyện", OCT21, "2025-10-13/week", "week of 13 October 2025"),
        ("hôm 20/10. Ông Rubio nói", date(2025, 11, 13), "2025-10-20", "20 October 2025"),
        ("vào ngày 21/1/2025, ông Yuri Ushakov", None, "2025-01-21", "21 January 2025"),
        ("sớm nhất là vào ngày 23-10.", OCT21, "2025-10-23", "23 October 2025"),  # announced: the near future
        ("hôm thứ Năm ông nói", OCT21, "2025-10-16", "16 October 2025"),
        ("hôm qua ông nói", OCT21, "2025-10-20", "20 October 2025"),
        ("bùng phát vào tháng 2-2022", None, "2022-02", "February 2022"),
        ("lần gần đây nhất là vào năm 2019", None, "2019", "2019"),
        ("ngày 1-1, đầu năm", date(2025, 12, 30), "2026-01-01", "1 January 2026"),  # nearest to the article's date
    ],
)
def test_dates_resolve_against_the_articles_date(line, article, iso, shown):
    d = event_date(line, article)
    assert d.iso == iso and d.english() == shown


@pytest.mark.parametrize(
    "line, shown",
    [
        ("Cuộc điện đàm ngày 12-2 đánh dấu", "12 February (year not stated)"),
        ("Ngoại trưởng Mỹ đến Moscow vào ngày hôm qua 11/4.", "11 April (year not stated)"),  # the explicit day wins
        ("ông Trump tuần trước đã gọi", "tuần trước (no date to count from)"),
    ],
)
def test_a_date_that_cannot_be_resolved_says_so(line, shown):
    d = event_date(line, None)
    assert not d.resolved and d.iso is None and d.english() == shown


@pytest.mark.parametrize("line", ["tỷ số 2-1 nghiêng về đội khách", "Không có ngày nào ở đây.", "PM2.5 vượt 3 lần"])
def test_a_line_without_a_date_has_none(line):
    assert event_date(line, OCT21) is None


def test_timeline_order_puts_resolved_dates_first_then_each_article_in_its_own_order():
    a = event_date("ngày 20-10", OCT21)
    week = event_date("tuần trước", OCT21)
    feb13, feb12 = event_date("Ngày 13-2", None), event_date("ngày 12-2", None)
    keys = {"oct20": sort_key(a), "week": sort_key(week), "feb13": sort_key(feb13, "002", 5), "feb12": sort_key(feb12, "002", 7)}
    assert sorted(keys, key=keys.get) == ["week", "oct20", "feb12", "feb13"]


@pytest.mark.parametrize(
    "question, shape",
    [
        ("What contacts between Russian and US officials do the articles report, in order?", "timeline"),
        ("What happened between Russia and the US in 2025?", "timeline"),
        ("List the phone calls between the two sides", "list"),
        ("What did Lavrov say about Budapest?", "list"),
        ("Which meetings are planned?", "list"),
        ("Liệt kê các cuộc điện đàm giữa hai bên", "list"),
        ("Những chủ đề nào được thảo luận tại Moscow?", "list"),
        ("Diễn biến quan hệ Nga - Mỹ theo thứ tự thời gian?", "timeline"),
        ("Who proposed Budapest?", "one"),
        ("What timeline for peace negotiations did Trump express?", "one"),  # the word, not the shape
        ("Các quan chức Nga và Mỹ dự kiến hội nghị thượng đỉnh sẽ diễn ra trong khoảng thời gian nào?", "one"),
        ("Ông Tillerson và ông Lavrov hội đàm ở Moscow trong bao lâu?", "one"),
        # Worded as users word them (a shape set written without the code, 2026-12-06, session 22)
        ("Summarise Peskov's comments after the February call.", "list"),
        ("How did the plans for a summit in Budapest develop over time?", "timeline"),
        ("What has happened since the call of 12 February?", "timeline"),
        ("What would the peace plan include?", "list"),
        ("How did Tillerson and Lavrov each describe their hopes for the talks?", "list"),
        ("Tóm tắt nội dung cuộc điện đàm ngày 20/10.", "list"),
        ("Công tác chuẩn bị gồm những hoạt động nào?", "list"),
        ("Ông Lavrov kỳ vọng gì ở Washington và đánh giá ra sao về ông Trump?", "list"),
        ("How has the relationship between Moscow and Washington changed since Trump took office?", "timeline"),
        ("Who were the officials involved in preparing the summit?", "list"),
        ("Những ai đã tham gia cuộc hội đàm ở Moscow?", "list"),
        ("What did both sides say after the call?", "list"),
        ("Mention every date on which Lavrov spoke with a US counterpart.", "list"),
        ("Describe the reactions to the call.", "list"),
        # Not lists however they are worded (false alarms found on XQuAD and ViNewsQA)
        ("According to Rubio, what do both sides agree the next meeting must deliver?", "one"),
        ("Who is the president of Hungary?", "one"),
        ("What compounds can be masked in order for a virus to evade detection?", "one"),
        ("Name a luxury division of Toyota.", "one"),
        ("Kể tên một nhánh cao cấp của Toyota.", "one"),
        ("Nêu một số lý do khiến Điện Kremlin đánh giá cao ông Trump.", "list"),  # "một số": some
        ("Tên của các đối tác mới của Tesla là gì?", "one"),
        ("Các bác sĩ nhận xét như thế nào?", "one"),
        ("Bệnh dịch xuất hiện ở các nước Hồi giáo vào những năm nào?", "one"),
        ("Cơ quan nào đã liệt kê khu chợ là di tích?", "one"),
    ],
)
def test_question_shape(question, shape):
    assert analyse(question).shape == shape


@pytest.mark.parametrize(
    "question, vietnamese, kinds",
    [
        ("What contacts between Russian and US officials do the articles report, in order?", False, ["contact"]),
        ("List the phone calls between the two sides", False, ["call"]),
        ("Which meetings are planned?", False, ["meeting"]),
        ("Liệt kê các cuộc điện đàm giữa hai bên", True, ["call"]),
        ("What were the main topics of the talks between Lavrov and Tillerson?", False, []),  # topics, not talks
        ("Rubio đã phát biểu những gì về hội nghị thượng đỉnh?", True, []),
        ("What did Lavrov say about Budapest?", False, []),
    ],
)
def test_the_kind_of_event_a_list_question_lists(question, vietnamese, kinds):
    assert listing.focus(question, vietnamese) == kinds


@pytest.mark.parametrize(
    "line, kinds, plans, states",
    [
        ("Ngày 20-10, Ngoại trưởng Nga Sergey Lavrov đã có cuộc điện đàm với Ngoại trưởng Mỹ Marco Rubio", ["call"], False, True),
        ("Ngày 20-10, Ngoại trưởng Nga Sergey Lavrov đã có cuộc điện đàm với Ngoại trưởng Mỹ Marco Rubio", ["meeting"], False, False),
        ("Nhà Trắng chưa liên lạc với Moscow về vấn đề sắp xếp", ["contact"], False, False),  # denied
        ("ông Lavrov và ông Rubio có thể sẽ gặp trực tiếp trong tuần này", ["meeting"], False, False),  # only planned
        ("ông Lavrov và ông Rubio có thể sẽ gặp trực tiếp trong tuần này", ["meeting"], True, True),  # plans asked for
        ("Hãng tin này lưu ý rằng, cuộc gọi sẽ là một sự thay đổi đáng kể", ["call"], False, False),  # a call to come
        ("Giá vàng trong nước ổn định.", ["contact"], False, False),
    ],
)
def test_a_line_states_an_event_of_the_kind_asked(line, kinds, plans, states):
    assert listing.states_event(line, kinds, plans) is states


# ---------------------------------------------------------------- the list step, scripted


CALL_LINES = ("Ngày 20-10", "tuần trước có cuộc nói chuyện", "Cuộc điện đàm ngày 12-2", "hôm 20/10")


def scripted(messages) -> str:
    """Yes for the lines that report a call; an item is the line's first words."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if system == listing.JUDGE_SYSTEM:
        return "Yes" if any(s in user for s in CALL_LINES) else "No"
    return "NOT FOUND"


def test_a_timeline_lists_dated_cited_items_in_date_order(hash_index):
    p = make_pipeline(hash_index, scripted)
    ans = p.ask("Liệt kê các cuộc điện đàm giữa lãnh đạo Nga và Mỹ theo thứ tự thời gian")
    assert ans.shape == "timeline" and ans.items and not ans.refused
    cited = [(c.file[:3], c.line_start) for it in ans.items for c in it.citations]
    assert ("001", 5) in cited
    for item in ans.items:  # every item quotes a line it cites
        assert any(item.text.rstrip(" …") in c.quote for c in item.citations)
    resolved = [it.date.day for it in ans.items if it.date and it.date.resolved]
    assert resolved == sorted(resolved)
    firsts = [i for i, it in enumerate(ans.items) if not (it.date and it.date.resolved)]
    assert all(i >= len(resolved) for i in firsts)  # the unresolved come last
    # the answer text: a lead line, one numbered line an item, each with its markers
    lines = ans.answer.split("\n")
    assert len(lines) == len(ans.items) + 1 and all(f"[{c.number}]" in ans.answer for c in ans.citations)


def test_two_reports_of_one_day_merge_keeping_both_citations(hash_index, monkeypatch):
    monkeypatch.setattr(listing, "SAME_EVENT", -1.0)  # the hashing embedder's cosines are not gemma's: any two lines of a day
    p = make_pipeline(hash_index, scripted)
    ans = p.ask("Liệt kê các cuộc điện đàm giữa ông Lavrov và ông Rubio theo thứ tự thời gian")
    oct20 = [it for it in ans.items if it.date and it.date.iso == "2025-10-20"]
    assert len(oct20) == 1
    assert {c.file[:3] for c in oct20[0].citations} == {"000", "001"}  # 001:5 "Ngày 20-10" and 000:7 "hôm 20/10"


def test_an_undated_report_joins_its_articles_item_and_a_dated_one_gives_the_item_its_words(hash_index):
    """"Sau cuộc họp, ..." in an article that already gave an item reports that event again: one
    item, every line cited. A report that dates the event leads its item."""
    p = make_pipeline(hash_index, lambda m: "Yes" if m[0]["content"] == listing.JUDGE_SYSTEM else "NOT FOUND")
    ans = p.ask("Liệt kê các cuộc gặp và cuộc điện đàm giữa Nga và Mỹ")
    assert ans.items and not ans.refused
    undated = [it.citations[0].file for it in ans.items if it.date is None]
    assert len(undated) == len(set(undated))  # at most one undated item an article
    for it in ans.items:
        if it.date is not None and it.date.resolved:
            assert it.text == listing.clause(it.citations[0].quote) or it.citations[0].quote.startswith(it.text.rstrip(" …"))
    dated_files = {c.file for it in ans.items if it.date is not None for c in it.citations}
    assert not [it for it in ans.items if it.date is None and it.citations[0].file in dated_files]  # whichever came first
    speaker = p.ask("Ông Peskov đã nói những gì về hội nghị thượng đỉnh?")  # statements are not merged so
    assert all(len(it.citations) == 1 for it in speaker.items)


@pytest.mark.parametrize("shape, undated_shown", [("list", False), ("timeline", True)])
def test_only_a_timeline_says_an_item_has_no_date(shape, undated_shown):
    items = [listing.Item("Hai bên đã thảo luận.", None), listing.Item("Ngày 20-10, hai ông điện đàm.", event_date("Ngày 20-10", OCT21))]
    text = listing.render(items, shape, False)
    assert ("no date given" in text) is undated_shown and "20 October 2025 — «Ngày 20-10" in text
    assert listing.dated(items[0], shape, False) == ("no date given — " if undated_shown else "")


def test_no_line_of_the_kind_refuses(hash_index):
    p = make_pipeline(hash_index, lambda m: "No" if m[0]["content"] == listing.JUDGE_SYSTEM else "NOT FOUND")
    ans = p.ask("Liệt kê các cuộc điện đàm giữa hai bên")
    assert not ans.items and (ans.refused or ans.reason == "quoted")


@pytest.mark.parametrize(
    "question, vietnamese, who",
    [
        ("What did Putin's foreign-policy aide Yuri Ushakov tell reporters about contacts with Trump?", False, "ushakov"),
        ("What did Lavrov say about Budapest?", False, "lavrov"),
        ("Ngoại trưởng Mỹ Marco Rubio đã phát biểu những gì về hội nghị thượng đỉnh?", True, "rubio"),
        ("Ông Peskov đánh giá thế nào về cuộc điện đàm?", True, "peskov"),
        ("Which meetings are planned?", False, ""),  # no one speaks
        ("What did the summit achieve?", False, ""),
        ("Summarise Dmitry Peskov's comments after the call.", False, "peskov"),  # what one person said, named as a thing
        ("Sắp xếp theo thời gian các phát biểu của người phát ngôn Dmitry Peskov.", True, "peskov"),
        ("Ông Lavrov kỳ vọng gì ở Washington và đánh giá ra sao về ông Trump?", True, "lavrov"),  # where, not who
        ("How did the February call and Peskov's reaction unfold?", False, ""),  # more than statements asked
    ],
)
def test_the_speaker_a_what_was_said_question_asks_about(question, vietnamese, who, hash_index):
    assert listing.speaker(question, vietnamese, hash_index.keyword.names) == who


def test_a_place_the_articles_write_is_no_speaker(hash_index):
    from rag.answer.pipeline import qualifying_places

    question = "What did Hungary's prime minister say about hosting the summit in Budapest?"
    assert "hungary" in qualifying_places(hash_index)
    assert listing.speaker(question, False, hash_index.keyword.names, qualifying_places(hash_index)) == ""


@pytest.mark.parametrize(
    "line, who, speaks",
    [
        ("Ông Peskov cho biết các nhà lãnh đạo sẽ tiếp tục trao đổi.", "peskov", True),
        ("“Chúng tôi ấn tượng hơn nhiều” - ông Peskov nói thêm.", "peskov", True),
        ("Theo ông Peskov, hai bên đã thống nhất.", "peskov", True),
        ("Ông Putin nói ông Peskov sẽ có mặt.", "peskov", False),  # Putin speaks, about Peskov
        ("Ông Lavrov và ông Rubio có cuộc điện đàm.", "rubio", False),  # no speech
        ("Những phát biểu của ông Ushakov được đưa ra sau một báo cáo.", "ushakov", False),  # a noun, not a verb
    ],
)
def test_a_line_reports_the_speaker_speaking(line, who, speaks):
    assert listing.speaks(line, who) is speaks


def test_what_one_person_said_is_listed_from_the_lines_that_report_it_without_asking_the_model(hash_index):
    p = make_pipeline(hash_index, lambda m: "NOT FOUND")
    ans = p.ask("Ông Peskov đã nói những gì về hội nghị thượng đỉnh?")
    assert ans.shape == "list" and 1 < len(ans.items) <= listing.MAX_STATEMENTS and not ans.refused
    assert not p.generator.calls  # no yes-no question, no composed answer
    for item in ans.items:
        assert all(listing.speaks(c.quote, "peskov") for c in item.citations)


def test_a_list_of_neither_events_nor_statements_takes_the_closest_lines_of_the_articles_naming_its_people(hash_index):
    p = make_pipeline(hash_index, lambda m: "NOT FOUND")
    question = "Những chủ đề nào được thảo luận trong cuộc hội đàm giữa Lavrov và Tillerson?"
    assert not listing.focus(question, True) and not listing.speaker(question, True, hash_index.keyword.names)
    ans = p.ask(question)
    assert ans.shape == "list" and 1 <= len(ans.items) <= listing.MAX_STATEMENTS and not ans.refused
    assert not p.generator.calls  # the model is not asked about the lines, nor to compose
    for c in ans.citations:  # every item from an article that names both men
        text = hash_index.article_text(c.file)
        assert "Lavrov" in text and "Tillerson" in text


def test_list_json_and_markdown_write_out_every_citation(hash_index):
    p = make_pipeline(hash_index, scripted)
    ans = p.ask("Liệt kê các cuộc điện đàm giữa lãnh đạo Nga và Mỹ theo thứ tự thời gian")
    d = json.loads(json.dumps(ans.to_dict(), ensure_ascii=False))
    assert d["shape"] == "timeline" and len(d["items"]) == len(ans.items)
    assert all(set(it) == {"text", "date", "date_text", "citations"} and it["citations"] for it in d["items"])
    md = markdown(ans)
    for c in ans.citations:
        assert f"[{c.ref}]" in md
    assert "\n\n1. " in md  # a Markdown list needs the blank line before it


# ---------------------------------------------------------------- the scorer


class _Date:
    def __init__(self, iso):
        self.iso = iso


class _Cit:
    def __init__(self, file, line):
        self.file, self.line_start, self.line_end = file, line, line


class _Item:
    def __init__(self, lines, iso=None):
        self.citations = [_Cit(f, n) for f, n in lines]
        self.date = _Date(iso) if iso else None


class _Ans:
    def __init__(self, items):
        self.items = items
        self.citations = [c for it in items for c in it.citations]
        self.refused = not items
        self.shape = "timeline"
        self.answer = ""
        self.timings_ms = {"total": 1.0}


GOLD = {
    "id": "t",
    "question": "q",
    "shape": "timeline",
    "items": [
        {"what": "a", "lines": [{"file": "f", "line_start": 1, "line_end": 1}], "date": "2025-01-01"},
        {"what": "b", "lines": [{"file": "f", "line_start": 5, "line_end": 5}, {"file": "g", "line_start": 2, "line_end": 2}], "date": "2025-02-01"},
        {"what": "c", "lines": [{"file": "f", "line_start": 9, "line_end": 9}], "date": None},
    ],
}


@pytest.mark.parametrize(
    "items, precision, recall, order, dates",
    [
        ([_Item([("f", 1)], "2025-01-01"), _Item([("g", 2)], "2025-02-01")], 1.0, 2 / 3, 1.0, 2),
        ([_Item([("g", 2)], "2025-02-01"), _Item([("f", 1)], "2025-01-01")], 1.0, 2 / 3, 0.0, 2),  # out of order
        ([_Item([("f", 1)]), _Item([("f", 3)])], 0.5, 1 / 3, None, 0),  # an item no gold line backs; no date
        ([], None, 0.0, None, 0),  # a refusal
    ],
)
def test_list_scorer(items, precision, recall, order, dates):
    r = list_eval.score(GOLD, _Ans(items))
    assert r["precision"] == precision and r["recall"] == pytest.approx(recall) and r["order"] == order and r["dates_right"] == dates


def test_the_list_scorer_tells_a_wrong_date_from_no_date():
    wrong = list_eval.score(GOLD, _Ans([_Item([("f", 1)], "2025-03-01"), _Item([("g", 2)])]))
    assert (wrong["dates_right"], wrong["dates_wrong"], wrong["dates_checked"]) == (0, 1, 2)  # undated is neither
    summ = list_eval.summary([wrong])
    assert summ["dates_wrong"] == 0.5 and "wrong 0.50" in list_eval.markdown([wrong], summ, "t")


_REPORTED = "Ngày 13-2, người phát ngôn Điện Kremlin Dmitry Peskov nói rằng rất khó để đánh giá hết tầm quan trọng của cuộc điện đàm mới đây giữa hai tổng thống."
_MENTIONED = "Ngoại trưởng Rubio nói: “Tôi nghĩ cả hai bên đều đồng ý”. Ông đồng thời đề cập đến cuộc điện đàm với Ngoại trưởng Lavrov hôm 20/10."


@pytest.mark.parametrize(
    "line, kinds, statements, iso",
    [
        (_REPORTED, [], True, "2025-02-13"),  # the day it was said
        (_REPORTED, ["call"], False, None),  # ... is not the day of the call it was said about
        (_MENTIONED, [], True, None),  # a date only in what was said does not date the statement
        (_MENTIONED, ["call"], False, "2025-10-20"),  # ... but dates the call it names
        ("Sau cuộc điện đàm ngày 12-2, ông Peskov nói rằng cuộc gọi rất quan trọng.", [], True, None),  # said later
        ("Sau cuộc điện đàm ngày 12-2, ông Peskov nói rằng cuộc gọi rất quan trọng.", ["call"], False, "2025-02-12"),
        ("Ngày 20-10, Ngoại trưởng Lavrov đã có cuộc điện đàm với Ngoại trưởng Rubio.", ["call"], False, "2025-10-20"),
        ("Ngày 20-10, ông Putin và ông Trump đã nói chuyện qua điện thoại.", ["call"], False, "2025-10-20"),  # a talk, not speech
        (_REPORTED, [], False, "2025-02-13"),  # any other list: the line's first date
    ],
)
def test_a_line_reporting_speech_dates_what_is_listed(line, kinds, statements, iso):
    when = listing.item_date(line, None, kinds, statements)  # no date line: day and month only
    assert (f"2025-{when.partial[1]:02d}-{when.partial[0]:02d}" if when else None) == iso


def test_a_later_report_of_a_call_joins_the_call_not_a_contact_of_its_own(hash_index):
    """"Ngày 13-2, ông Peskov nói rằng ... cuộc điện đàm mới đây" reports the call of 12-2 (002:7);
    13-2 is the day it was said, not a second call."""
    p = make_pipeline(hash_index, lambda m: "Yes" if m[0]["content"] == listing.JUDGE_SYSTEM else "NOT FOUND")
    ans = p.ask("Liệt kê theo thứ tự các cuộc điện đàm giữa lãnh đạo Nga và Mỹ")
    cited = {(c.file[:3], c.line_start): it for it in ans.items for c in it.citations}
    assert ("002", 5) in cited and ("002", 7) in cited, ans.answer
    assert cited[("002", 5)] is cited[("002", 7)] and cited[("002", 7)].date.written == "ngày 12-2"


def test_a_span_of_weeks_is_not_next_week():
    assert event_date("hội nghị thượng đỉnh có khả năng sẽ diễn ra trong vòng hai tuần tới.", OCT21) is None

def test_the_list_scorer_counts_an_event_listed_twice_once_in_distinct_precision():
    twice = [_Item([("f", 1)], "2025-01-01"), _Item([("f", 1)], "2025-01-01"), _Item([("g", 2)], "2025-02-01")]
    r = list_eval.score(GOLD, _Ans(twice))
    assert r["precision"] == 1.0 and r["distinct"] == 2
    assert list_eval.summary([{**r, "ms": 1.0}])["distinct_precision"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "question, vietnamese, start, end",
    [
        ("What happened between Russia and the US in 2025?", False, date(2025, 1, 1), date(2025, 12, 31)),
        ("What did Lavrov say in November 2025 about the summit?", False, date(2025, 11, 1), date(2025, 11, 30)),
        ("What has happened since the Trump–Putin phone call of 12 February 2025?", False, date(2025, 2, 12), None),
        ("Kể từ cuộc điện đàm ngày 20/10/2025, tình hình đã tiến triển ra sao?", True, date(2025, 10, 20), None),
        ("Từ lúc ông Trump nhậm chức đến giữa tháng 2/2025, liên lạc đã diễn biến thế nào?", True, None, date(2025, 2, 28)),
        ("Các diễn biến chính trong quan hệ Nga–Mỹ năm 2025?", True, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_the_period_a_list_question_asks_about(question, vietnamese, start, end):
    assert asked_period(question, vietnamese) == Period(start, end)


@pytest.mark.parametrize(
    "period, vietnamese, words",
    [
        (Period(date(2025, 1, 1), date(2025, 12, 31)), False, "in 2025"),
        (Period(date(2025, 11, 1), date(2025, 11, 30)), False, "in November 2025"),
        (Period(date(2025, 2, 12), None), False, "since 12 February 2025"),
        (Period(None, date(2025, 2, 28)), True, "đến 28/2/2025"),
        (Period(date(2025, 1, 19), date(2025, 1, 21)), True, "từ 19/1/2025 đến 21/1/2025"),
    ],
)
def test_a_period_as_the_answers_lead_says_it(period, vietnamese, words):
    assert period.words(vietnamese) == words


@pytest.mark.parametrize(
    "question, vietnamese",
    [
        ("What did Ushakov tell reporters on 21 January 2025?", False),  # one day: its lines may date what he answered
        ("What phone calls do the articles report?", False),
        ("Since when had the two leaders not spoken?", False),  # no date given
        ("Ông Lavrov nói gì ngày 20-10?", True),  # no year
    ],
)
def test_a_question_without_a_period(question, vietnamese):
    assert asked_period(question, vietnamese) is None


def test_a_period_keeps_what_it_cannot_place_and_drops_what_falls_outside():
    since = Period(date(2025, 2, 12), None)
    oct21 = date(2025, 10, 21)
    assert not since.admits(event_date("Ngày 19/1/2025, CNN đưa tin", None), None)  # dated before
    assert since.admits(event_date("ngày 20-10", oct21), oct21)
    assert since.admits(event_date("tuần trước", date(2025, 2, 17)), date(2025, 2, 17))  # the week of 10 February ends after the 12th
    assert since.admits(None, None)  # undated, in an undated article: nothing says it falls outside
    assert since.admits(event_date("Ngày 13-2", None), None)  # a day without a year: kept
    assert not since.admits(None, date(2025, 1, 22))  # an article from before the period cannot report it
    assert Period(date(2025, 1, 1), date(2025, 12, 31)).admits(event_date("tháng 12 năm 2025", None), None)
    assert not Period(date(2025, 1, 1), date(2025, 12, 31)).admits(event_date("năm 2019", None), None)


def test_a_list_of_a_period_leaves_out_what_its_lines_date_outside_it(hash_index):
    p = make_pipeline(hash_index, scripted)
    ask = "Liệt kê các cuộc điện đàm giữa lãnh đạo Nga và Mỹ theo thứ tự thời gian"
    late = lambda ans: [it for it in ans.items if it.date and it.date.resolved and it.date.day > date(2025, 10, 15)]
    every, until = p.ask(ask), p.ask(ask + " trước ngày 15/10/2025")
    assert late(every)  # the calls of 20 October
    assert until.items and not late(until)
    assert until.answer.startswith("Các bài báo cho biết (đến 15/10/2025), theo thứ tự thời gian:")  # the reader is told
    assert every.answer.startswith("Các bài báo cho biết, theo thứ tự thời gian:")


def test_list_questions_are_told_from_single_fact_ones_as_users_word_them():
    """eval/gold/shapes-dev.jsonl: 80 questions over the seeds written without the code (40 asking for
    several things, 40 for one fact, half Vietnamese). A development set: the detector's words were
    widened on it (session 22), so this guards against regressions, not a claim about new questions."""
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent.parent / "eval/gold/shapes-dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    agree = sum(analyse(r["question"]).many == (r["shape"] != "one") for r in rows)
    assert len(rows) == 80 and agree >= 76
