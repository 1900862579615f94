"""Vietnamese-aware text functions: NFC, diacritic folding, keyword tokens, answer normalisation.

The same functions apply to articles, questions and gold answers, so mixed NFC/NFD input
never splits one word into two.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Vietnamese letters that exist only with diacritics; one of them is a strong language signal.
_VI_MARKS = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lowercase and strip every diacritic (ấ -> a, đ -> d): the lenient keyword form."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d").replace("\u0111", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def words(text: str) -> list[str]:
    """NFC words with their case kept."""
    return _WORD.findall(nfc(text))


def syllables(text: str) -> list[str]:
    """Lowercased NFC syllables (Vietnamese words are space-separated syllables)."""
    return _WORD.findall(nfc(text).lower())


def is_vietnamese(text: str) -> bool:
    """True when the text carries Vietnamese letters (a question with none is treated as English)."""
    letters = sum(1 for c in text if c.isalpha())
    marks = len(_VI_MARKS.findall(nfc(text)))
    return letters > 0 and marks / letters > 0.04


# Function words that carry no topic: Vietnamese (folded) and English. Dropping them keeps the
# keyword side from matching every line on "của" or "the".
STOP = frozenset(
    ["va", "la", "cua", "cac", "nhung", "mot", "co", "duoc", "cho", "voi", "trong", "tai", "ve", "da", "dang", "se", "thi", "ma", "nay", "do", "khi", "de", "tu", "theo", "nhu", "cung", "rang", "ong", "ba", "anh", "chi", "em", "ho", "toi", "chung", "ta", "minh", "nao", "gi", "ai", "dau", "sao", "bao", "nhieu", "khong", "chua", "roi", "vao", "ra", "len", "den", "hay", "hoac", "neu", "vi", "nen", "tren", "duoi", "sau", "truoc", "giua", "ngay", "nam", "thang", "lan", "nguoi", "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its", "he", "she", "they", "them", "his", "her", "their", "as", "about", "into", "than", "then", "there", "here", "not", "no", "yes", "will", "would", "can", "could", "should", "may", "might", "has", "have", "had", "i", "you", "we", "us", "our", "your", "my", "me"]
)


def keyword_tokens(text: str) -> list[str]:
    """Tokens for the keyword index: folded syllables (minus stop words) plus folded syllable bigrams.

    Bigrams stand in for multi-syllable words ("thuong_dinh"); unfolded syllables keep
    "năm" and "nấm" apart ("~năm" only matches the exact diacritics).
    """
    sylls = syllables(text)
    folded = [fold(s) for s in sylls]
    out: list[str] = []
    for s, f in zip(sylls, folded):
        if f in STOP:
            continue
        out.append(f)
        if s != f:
            out.append("~" + s)
    for a, b in itertools.pairwise(folded):
        if a in STOP and b in STOP:
            continue
        out.append(a + "_" + b)
    return out


def content_terms(text: str) -> set[str]:
    """Folded, non-stop syllables: what 'shares words with' means for support checks."""
    return {f for f in (fold(s) for s in syllables(text)) if f not in STOP and (len(f) > 1 or f.isdigit())}


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_answer(text: str) -> str:
    """NFC, lowercase, punctuation to spaces, collapsed whitespace (for EM/F1 scoring)."""
    text = _PUNCT.sub(" ", nfc(text).lower())
    return " ".join(text.split())


# Numbers one to ten as words: (Vietnamese, English), by their digits.
NUMBER_WORDS = {
    "1": ("một", "one"),
    "2": ("hai", "two"),
    "3": ("ba", "three"),
    "4": ("bốn", "four"),
    "5": ("năm", "five"),
    "6": ("sáu", "six"),
    "7": ("bảy", "seven"),
    "8": ("tám", "eight"),
    "9": ("chín", "nine"),
    "10": ("mười", "ten"),
}
_VI_DIGIT = {vi: d for d, (vi, _) in NUMBER_WORDS.items() if vi != "một"} | {"tư": "4"}  # "một cuộc": a call
_EN_DIGIT = {en: d for d, (_, en) in NUMBER_WORDS.items() if en != "one"}  # "one" is also a pronoun
_VI_COUNTED = re.compile(
    r"\b(" + "|".join(_VI_DIGIT) + r")\s+(?=(giờ|tiếng|phút|giây|ngày|tuần|tháng|năm|lần|người|cuộc|nước|bên)\b)", re.IGNORECASE
)
_EN_COUNTED = re.compile(
    r"\b(" + "|".join(_EN_DIGIT) + r")\s+(?=(hours?|minutes?|seconds?|days?|weeks?|months?|years?|times|people|calls|meetings|countries|sides)\b)",
    re.IGNORECASE,
)


# What a number counts, by the words written right after it, in either language ("5 giờ", "five
# hours", "16 triệu USD", "75%"). A number and its unit together are one fact: "2 ngày" (two days)
# is not stated by a line's "hai tuần" (two weeks), nor "$1 billion" by "một thỏa thuận" (a deal).
UNITS = {
    "hour": ("giờ", "tiếng", "hour", "hours"),
    "minute": ("phút", "minute", "minutes"),
    "second": ("giây", "seconds"),  # not "second": also the ordinal
    "day": ("ngày", "day", "days"),
    "week": ("tuần", "week", "weeks"),
    "month": ("tháng", "month", "months"),
    "year": ("năm", "year", "years"),
    "time": ("lần", "times"),
    "person": ("người", "people", "persons"),
    "meeting": ("cuộc", "calls", "meetings", "talks"),
    "country": ("nước", "quốc gia", "countries"),
    "side": ("bên", "sides"),
    "thousand": ("nghìn", "ngàn", "thousand"),
    "million": ("triệu", "million"),
    "billion": ("tỷ", "tỉ", "billion"),
    "km": ("km", "kilometres", "kilometers"),
    "percent": ("%", "phần trăm", "percent", "per cent"),
}
_UNIT_OF = {form: unit for unit, forms in UNITS.items() for form in forms}
_WORD_DIGIT = {w: d for d, pair in NUMBER_WORDS.items() for w in pair} | {"tư": "4"}
_AMOUNT = re.compile(
    r"(?<![\w/.,-])(\d+(?:[.,]\d+)*|" + "|".join(sorted(_WORD_DIGIT, key=len, reverse=True)) + r")(?![\w/]|-\d|[.,]\d)"
    r"\s*-?\s*(" + "|".join(sorted((re.escape(f) for f in _UNIT_OF), key=len, reverse=True)) + r")(?!\w)",
    re.IGNORECASE,
)
_DATE_WORD = re.compile(r"\b(ngày|tháng|năm|hôm|day|month|year)\s*$", re.IGNORECASE)


def amounts(text: str, words_for_one: bool = True) -> set[tuple[str, str]]:
    """The (number, unit) pairs a text states: "khoảng 5 giờ đồng hồ" -> {("5", "hour")}, "hai
    tuần" -> {("2", "week")}, "1.300 km" -> {("1300", "km")}. A number after "ngày", "tháng" or
    "năm" is part of a date ("ngày 20 tháng 10"), not a count. `words_for_one`: read "một"/"one"
    before a unit as 1 (in a line, "một tỷ" is one billion; in an answer, "một người" is mostly
    "someone")."""
    text = nfc(text)
    out: set[tuple[str, str]] = set()
    for m in _AMOUNT.finditer(text):
        number, unit = m.group(1).lower(), _UNIT_OF[m.group(2).lower()]
        if _DATE_WORD.search(text[: m.start()]):
            continue
        if not number[0].isdigit():
            if number in ("một", "one") and not words_for_one:
                continue
            number = _WORD_DIGIT[number]
        out.add((number.replace(".", "").replace(",", "").lstrip("0") or "0", unit))
    return out


# A time of day is a fact like a number: "Tối ngày 11/4, ông Tillerson rời Moscow" from a line
# that says only "ngày 11/4" invents the evening (session 36, a new development near-miss). The
# Vietnamese "sáng", "chiều" and "tối" count only before a day ("tối 11/4", "sáng nay", "chiều thứ
# Hai") or after "buổi"/"ban": "tối đa", "chiều hướng" and "sáng kiến" are no times; "trưa",
# "đêm" and "khuya" are times wherever they stand ("dịch vụ ban đêm" is a late-night service).
# "Tối"/"đêm" and "evening"/"night" are one time: "tối qua" is "last night".
_TIME_OF_DAY = {
    "sáng": "morning", "rạng sáng": "morning", "morning": "morning",
    "trưa": "noon", "noon": "noon", "midday": "noon",
    "chiều": "afternoon", "afternoon": "afternoon",
    "tối": "evening", "đêm": "evening", "khuya": "evening",
    "evening": "evening", "night": "evening", "tonight": "evening", "overnight": "evening", "midnight": "evening",
}
_VI_TIME = re.compile(
    r"(?<!\w)(rạng sáng|sáng|chiều|tối)(?=\s+(?:ngày|hôm|nay|qua|mai|thứ|chủ nhật|cùng|\d))"
    r"|(?<=buổi )(sáng|chiều|tối)(?!\w)|(?<=ban )(sáng|chiều|tối)(?!\w)"
    r"|(?<!\w)(trưa|đêm|khuya)(?!\w)",  # these three are times wherever they stand: "dịch vụ ban đêm"
    re.IGNORECASE,
)
_EN_TIME = re.compile(r"\b(morning|noon|midday|afternoon|evening|night|tonight|overnight|midnight)s?\b", re.IGNORECASE)


def times_of_day(text: str) -> set[str]:
    """The times of day a text states: "Tối ngày 11/4" -> {"evening"}, "on the morning of 20
    October" -> {"morning"}; "tối đa" (at most) and "sáng kiến" (an initiative) state none."""
    text = nfc(text)
    said = ["".join(groups) for groups in _VI_TIME.findall(text)] + _EN_TIME.findall(text)
    return {_TIME_OF_DAY[w.lower()] for w in said}


def counted_digits(text: str) -> str:
    """A number word before a unit written as digits ("năm giờ" -> "5 giờ", "hai lần" -> "2 lần",
    "seven hours" -> "7 hours"), so it can be compared with a line and cannot be misread ("năm" is
    also "year")."""
    text = _VI_COUNTED.sub(lambda m: f"{_VI_DIGIT[m.group(1).lower()]} ", text)
    return _EN_COUNTED.sub(lambda m: f"{_EN_DIGIT[m.group(1).lower()]} ", text)
