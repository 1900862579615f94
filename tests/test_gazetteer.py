"""Names of countries and institutions carried into English by our code (rag/gazetteer.py)."""

from __future__ import annotations

import pytest

from rag.gazetteer import english_honorifics, english_names, names_kept, offices_kept


@pytest.mark.parametrize(
    "vietnamese, english",
    [
        ("Triều Tiên", "North Korea"),
        ("Điện Kremlin", "The Kremlin"),
        ("Nga, Mỹ và Hungary", "Russia, US và Hungary"),
        ("Liên bang Nga", "Russia"),  # the longer name first
        ("Ngoại trưởng Mỹ Marco Rubio", "Ngoại trưởng US Marco Rubio"),
        ("bà Nguyễn Thị Nga", "bà Nguyễn Thị Nga"),  # part of a person's name
        ("Hằng Nga", "Hằng Nga"),
        ("Mỹ phẩm Hàn Quốc", "Mỹ phẩm South Korea"),  # "Mỹ phẩm" is cosmetics
        ("Pháp luật quy định", "Pháp luật quy định"),
        ("Lào Cai", "Lào Cai"),
        ("người Nga", "người Russia"),
        ("Anh và Ý", "Anh và Ý"),  # also common nouns: never rewritten
        ("hội nghị thượng đỉnh Nga-Mỹ", "hội nghị thượng đỉnh Russia-US"),
        ("ở Nga", "ở Russia"),
        ("tại Bắc Mỹ", "tại North America"),  # not "Bắc US": the longer name first
        ("các nước châu Âu", "các nước Europe"),  # a lowercase word before, however it starts
    ],
)
def test_listed_names_are_written_in_english(vietnamese, english):
    assert english_names(vietnamese) == english


def test_a_translation_that_names_another_country_is_refused():
    assert not names_kept("Nga, Mỹ và Hungary", "Netherlands, USA and Hungary")  # measured: the model wrote this
    assert names_kept("Nga, Mỹ và Hungary", "Russia, the U.S. and Hungary")
    assert not names_kept("Triều Tiên", "The United States")
    assert names_kept("Triều Tiên", "North Korea")  # "Korea" inside "North Korea" is no other country
    assert names_kept("Tổng thống Nga", "the Russian president")
    assert names_kept("Tổng thống Nga Vladimir Putin", "President Vladimir Putin")  # left out, not claimed
    assert names_kept("Mỹ", "with us")  # forms are matched as written: "us" is not the US
    assert not names_kept("Ông Peskov nói", "Russian spokesman Peskov said")
    assert names_kept("hội nghị thượng đỉnh Nga-Mỹ tại Budapest", "the Russia-U.S. summit in Budapest")
    assert names_kept("tại Bắc Mỹ", "in North America")  # measured: refused before Bắc Mỹ was listed
    assert not names_kept("Cơ quan Di sản Anh", "The British Museum")  # measured: "Anh" is not listed, "British" is


@pytest.mark.parametrize(
    "vietnamese, english",
    [  # measured: the model wrote each of these
        ("người phát ngôn Điện Kremlin Dmitry Peskov", "Russian Foreign Minister Dmitry Peskov"),
        ("Ngoại trưởng Rubio", "President Obama"),
        ("ông Rubio đã nhấn mạnh", "President Rubio had emphasized"),
    ],
)
def test_a_translation_that_gives_someone_an_office_the_line_does_not_is_refused(vietnamese, english):
    assert not offices_kept(vietnamese, english)


@pytest.mark.parametrize(
    "vietnamese, english",
    [
        ("Ngoại trưởng Mỹ Marco Rubio", "US Secretary of State Marco Rubio"),  # one office, not "secretary" + "state"
        ("Ngoại trưởng Nga Sergey Lavrov", "Russian Foreign Minister Sergey Lavrov"),
        ("người phát ngôn Điện Kremlin, Dmitry Peskov", "Kremlin spokesman Dmitry Peskov"),
        ("Trợ lý chính sách đối ngoại của Tổng thống Nga", "foreign policy aide to the Russian President"),
        ("Tổng thống Nga và Tổng thống Mỹ", "the Russian and US presidents"),
        ("hai nhà lãnh đạo", "the two leaders"),  # no office named, none claimed
    ],
)
def test_a_translation_may_name_the_offices_its_line_names(vietnamese, english):
    assert offices_kept(vietnamese, english)


def test_mr_and_ms_are_written_by_our_code_before_the_model_translates():
    """The model wrote "President Rubio" for "ông Rubio"; "ông" alone is "he", and stays."""
    assert english_honorifics("cho biết ông Rubio đã nhấn mạnh") == "cho biết Mr Rubio đã nhấn mạnh"
    assert english_honorifics("Ông Trump nói, bà Nguyễn Thị Nga") == "Mr Trump nói, Ms Nguyễn Thị Nga"
    assert english_honorifics("ông vẫn còn nửa ngày, ông ấy nói") == "ông vẫn còn nửa ngày, ông ấy nói"
