"""The evidence-first answer step: the model picks a line, then copies the answer out of it.

The small model reads badly when asked to read four lines and write an answer, but it picks the
right one among similar numbered lines reliably when asked only for the line. So the answer is
built in two constrained steps of one greedy generation:

  1. after "Line:", the model may only write a shown line's number (or 0: none answers);
  2. after "Answer:", it may only copy a run of that line's own tokens, starting at a word,
     and stop when it likes. What it writes is, by construction, a substring of the line.

The pipeline then wraps the copied phrase into the answer (rag/answer/pipeline.py) and the verifier
still checks it (names, question words, the act a who-question asks about). English answers
carry dates over deterministically (`english_dates`: "20-10" is 20 October, read against the
article's year) before the short phrase is translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.prompt import Evidence, _sanitize
from rag.corpus.ingest import is_header
from rag.dates import DMY as _DMY
from rag.dates import MONTH as _MONTH
from rag.dates import MONTH_YEAR as _MONTH_YEAR
from rag.dates import MONTHS as _MONTHS
from rag.text import content_terms

READER_SYSTEM = (
    "You find answers in numbered evidence lines from Vietnamese news articles.\n"
    "First write the number of the one line that answers the question, or 0 if no line answers it.\n"
    "Then copy from that line, word for word, the shortest phrase that answers the question.\n\n"
    "Example\n"
    "Evidence lines:\n[1] <<<Hai bên đã thảo luận về hợp tác thương mại.>>>\n"
    "[2] <<<Ngày 5-3, Bộ trưởng Nguyễn Văn An đã gặp đại sứ Nhật Bản tại Hà Nội.>>>\n"
    "Question: Who did the minister meet in Hanoi?\n"
    "Line: 2\nAnswer: đại sứ Nhật Bản\n\n"
    "Example\n"
    "Evidence lines:\n[1] <<<Cuộc họp kéo dài gần ba giờ và kết thúc lúc 17 giờ.>>>\n"
    "Question: Cuộc họp kéo dài bao lâu?\n"
    "Line: 1\nAnswer: gần ba giờ\n\n"
    "Example\n"
    "Evidence lines:\n[1] <<<Giá vàng trong nước ổn định.>>>\n"
    "Question: What is the population of Canada?\n"
    "Line: 0"
)

# A yes-no question's answer is the statement that settles it, not a bare "có"/"không" nor a name
# near it: the reader system message above, with one more (generic) example.
READER_YES_NO = READER_SYSTEM + (
    "\n\nExample\n"
    "Evidence lines:\n[1] <<<Bộ trưởng cho biết chưa có quyết định nào về việc tăng giá điện trong năm nay.>>>\n"
    "Question: Has the ministry decided to raise electricity prices?\n"
    "Line: 1\nAnswer: chưa có quyết định nào về việc tăng giá điện"
)

# The phrase, not a sentence about it: told only "as short as the Vietnamese one" with the question
# in view, the model answered the question in a sentence of its own ("The Russian foreign ministry
# described the discussion as ...", "President Obama" for "Ngoại trưởng Rubio") and the check sent
# the Vietnamese back. The examples are generic phrases, none from the articles or a gold set.
PHRASE_TRANSLATE = (
    "You translate a short Vietnamese phrase into English. Reply with the English phrase only, as short as the "
    "Vietnamese one, not a sentence. Keep every name and number exactly as written.\n"
    "Examples:\nVietnamese: Bộ trưởng Y tế\nEnglish: the health minister\n"
    "Vietnamese: hơn ba tháng\nEnglish: more than three months\n"
    "Vietnamese: không công bố lý do\nEnglish: did not give a reason\n"
    "Vietnamese: các nhà khoa học Nhật Bản\nEnglish: Japanese scientists"
)


def phrase_prompt(question: str, phrase: str) -> str:
    """The user message asking for `phrase` in English, the question it answers as a hint (none
    when `question` is empty)."""
    return f"(It answers: {question})\nVietnamese: {phrase}" if question else f"Vietnamese: {phrase}"


_GLUE = frozenset(["the", "a", "an", "is", "are", "was", "were", "has", "have", "had", "been", "be", "by", "in", "on", "at", "of", "to", "it", "its", "they", "their"])


def without_question(english: str, question: str) -> str:
    """A translation with the question it was given as a hint restated in front taken off: "The
    Summer Theatre was located in Ogród Saski" -> "Ogród Saski" for "Where was the Summer Theatre
    located?" (the 1.5B model, shown the question, often answers it in a whole sentence, which is
    then too long to be the phrase's translation). Only the question's words (or words that
    begin with the same five letters: "connecting" for "connects") and "the", "was", "by" and
    the like are taken off, and only from the front: what is left is the model's rendering of
    the phrase. Unchanged unless what goes holds at least half of the question's
    content words (a restatement, not a phrase that shares a noun with it: "The Theatre of
    Warsaw") and something stays."""
    written = set(re.findall(r"[^\W_]+", question))
    asked = {w.lower() for w in written}
    stems = {w[:5] for w in asked if len(w) >= 5}  # "connecting" restates "connects"

    def restating(w: str, first: bool) -> bool:
        if w[:1].isupper() and not first and w not in written:
            return False  # "... is Route 99": a name the answer gives, though the question says "route"
        w = w.lower()
        return w in asked or w in _GLUE or (len(w) >= 5 and w[:5] in stems)

    tokens = english.split()
    cut = 0
    for i, token in enumerate(tokens):
        parts = re.findall(r"[^\W_]+", token)
        if not parts or not all(restating(w, i == 0) for w in parts):
            break
        cut += 1
    content = content_terms(question)
    restated = content and len(content_terms(" ".join(tokens[:cut])) & content) >= len(content) / 2
    return " ".join(tokens[cut:]) if restated and cut < len(tokens) else english


_ASKS = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b|\?", re.IGNORECASE)


def asks_back(english: str) -> bool:
    """A translation holding a question word has carried the hint's question in ("Moscow still
    ready to host the second summit in Budapest, but on what condition"): an answer phrase never does."""
    return bool(_ASKS.search(english))


_DATE = re.compile(
    r"\d|\b(ngày|tháng|năm|tuần|hôm|sáng|chiều|tối|đêm|trưa|thứ|giờ|trước|sau|nay|qua|mai|đầu|cuối|giữa|chủ nhật|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|week|month|year|today|yesterday)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d|\b(một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|trăm|nghìn|ngàn|triệu|tỷ|vài|nhiều|mấy|hàng|nửa|rưỡi)\b", re.IGNORECASE)
_ONLY_DATE = re.compile(r"^\D*\d{1,2}\s*[-/]\s*\d{1,2}(\s*[-/]\s*\d{4})?\D*$")
_PERSON = re.compile(
    r"\b[A-ZĐ][\w-]+|\b(ông|bà|người|ngoại trưởng|tổng thống|thủ tướng|bộ trưởng|phát ngôn|trợ lý|quan chức|đại sứ|"
    r"đặc phái viên|nhà lãnh đạo|lãnh đạo|phóng viên|chuyên gia|giới chức|phía|bên|chính quyền|chính phủ)\b",
)


# A time, a number or a person takes a few words: a longer copy is a passage the model could not
# narrow down, not an answer ("When was the Budapest summit held?" was answered with 60 words of a
# line that says the date is not agreed, from its "cùng ngày,"). The longest right copy of these
# kinds in the development and public reports is 20 words (an XQuAD "(1685)" inside a clause).
MAX_SHORT_COPY = 25
SHORT_KINDS = ("when", "amount", "who")  # the kinds whose answer is at most MAX_SHORT_COPY words


def fits(kind: str, phrase: str) -> bool:
    """Whether a copied phrase is the kind of thing the question asks for: a when-question's
    answer names a time, a how-many/how-long one a number (a bare day-month is a date, not an
    amount), a who-question's a person, a name or a title, each in at most MAX_SHORT_COPY
    words. Other kinds: anything."""
    if kind in SHORT_KINDS and len(phrase.split()) > MAX_SHORT_COPY:
        return False
    if kind == "when":
        return bool(_DATE.search(phrase))
    if kind == "amount":
        return bool(_NUMBER.search(phrase)) and not _ONLY_DATE.match(phrase)
    if kind == "who":
        return bool(_PERSON.search(phrase))
    return True


# A line that states a time or an amount, as written in news text: stricter than _DATE/_NUMBER,
# which judge a short copied phrase, since nearly every line of news has "năm", "sau" or "hai" in it.
_STATES = {
    "when": re.compile(
        r"\d{1,2}\s*[-/]\s*\d{1,2}|\b\d{4}\b|\btháng\s+(\d+|một|hai|ba|tư|năm|sáu|bảy|tám|chín|mười)\b|"
        r"\b(hôm|sáng|chiều|tối|đêm|trưa)\s+(qua|nay|thứ|\d)|\btuần\s+(trước|này|tới|qua|sau)\b|\bngày\s+\d|"
        r"\bthứ\s+(hai|ba|tư|năm|sáu|bảy)\b|\bchủ nhật\b|\b(thế kỷ|thập niên)\b",
        re.IGNORECASE,
    ),
    "amount": re.compile(r"\d|\b(một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|trăm|nghìn|ngàn|triệu|tỷ|vài|nửa)\s+\w+", re.IGNORECASE),
}
ANSWER_LINES = 3  # the best-ranked stating lines the answer line is chosen among (answer_line)


def answer_line(kind: str, stating: list):
    """The line the reader copies from: retrieval's best-ranked stating line, unless the question
    asks for a time or an amount and that line states none while one of the next two (ANSWER_LINES
    in all) does. Measured with retrieval alone, when- and how-many questions: the line chosen held
    the gold for 1 more of 28 on the development sets and 3 more of 44 on XQuAD en->vi (200, seed
    0), none fewer (docs/results.md, session 21)."""
    states = _STATES.get(kind)
    if states is None:
        return stating[0]
    # An article's dated header line (" date 2025-10-21 <title> 21/10/2025 08:00") gives the day it
    # was published, not the time of what it reports: it states no time of an event.
    said = lambda ev: bool(states.search(ev.text)) and not (kind == "when" and is_header(ev.text))
    if said(stating[0]):
        return stating[0]
    return next((ev for ev in stating[1:ANSWER_LINES] if said(ev)), stating[0])


_CAP_WORD = re.compile(r"\s+([A-ZĐ][\w.-]*)")


def with_name(phrase: str, line: str, limit: int = 4) -> str:
    """A copy that stops at a title ("Trung tướng", "Ngoại trưởng Mỹ") takes the name that follows
    it in the line ("Trung tướng Keith Kellogg"): up to `limit` capitalised words, nothing across
    punctuation."""
    at = line.find(phrase)
    if at < 0:
        return phrase
    end, taken = at + len(phrase), 0
    while taken < limit and (m := _CAP_WORD.match(line, end)):
        end, taken = m.end(), taken + 1
    return line[at:end]


def sentence_of(phrase: str, line: str, limit: int = 240) -> str:
    """The sentence of `line` that holds `phrase`: what the answer quotes so a reader sees the fact
    in its own words. A sentence over `limit` characters is cut to the clauses (at commas) around
    the phrase, marked with "…". "" when the phrase is not in the line."""
    from rag.verify.cite import split_sentences

    held = next((s for s in split_sentences(line) if phrase in s), "")
    if len(held) <= limit or not held:
        return held
    clauses = re.split(r"(?<=[,;:])\s+", held)
    at = next((i for i, c in enumerate(clauses) if phrase in c), None)
    if at is None:  # the phrase runs across clauses: a window of characters around it
        start = max(0, held.find(phrase) - (limit - len(phrase)) // 2)
        return ("…" if start else "") + held[start : start + limit].strip() + ("…" if start + limit < len(held) else "")
    lo = hi = at
    while True:
        grown = False
        for i in (hi + 1, lo - 1):
            if 0 <= i < len(clauses) and len(" ".join(clauses[min(lo, i) : max(hi, i) + 1])) <= limit:
                lo, hi, grown = min(lo, i), max(hi, i), True
        if not grown:
            break
    return ("…" if lo else "") + " ".join(clauses[lo : hi + 1]) + ("…" if hi < len(clauses) - 1 else "")


@dataclass(frozen=True, slots=True)
class Read:
    """What the reader found: the chosen evidence number (0: none) and the phrase copied from it."""

    line: int
    phrase: str
    raw: str  # as the model wrote it, for reports


def reader_prompt(question: str, evidence: list[Evidence]) -> str:
    """The user turn: numbered lines (quoted, sanitised as in the answer prompt), then the question."""
    blocks = [f"[{ev.number}] <<<{_sanitize(ev.text)}>>>" for ev in evidence]
    return "Evidence lines:\n" + "\n".join(blocks) + f"\nQuestion: {_sanitize(question)}"


def split_read(raw: str) -> tuple[int, str]:
    """"Line: N\nAnswer: phrase" as (N, phrase); (0, "") when it holds no number."""
    m = re.match(r"\s*(?:Line:)?[ \t]*(\d+)[ \t]*(?:\n\s*Answer:[ \t]*([^\n]*))?", raw or "")
    return (int(m.group(1)), " ".join((m.group(2) or "").split())) if m else (0, "")


def parse(raw: str, evidence: list[Evidence]) -> Read:
    """Read "Line: N\\nAnswer: phrase" back; a number that is not shown, or a phrase that is not in
    its line, counts as no answer (the constrained generator cannot write either)."""
    n, phrase = split_read(raw)
    phrase = phrase.strip(" ,;:")
    ev = next((e for e in evidence if e.number == n), None)
    if ev is None or not phrase or phrase not in " ".join(_sanitize(ev.text).split()):
        return Read(0, "", raw)
    return Read(n, phrase, raw)


def months_kept(carried: str, english: str) -> bool:
    """A translation names the months its source names (once carried over by `english_dates`), and
    no other: "hôm 20/1" carried as "20 January" must not come back as "November 20"."""
    said = lambda text: {m for m in _MONTHS if re.search(rf"\b{m}\b", text)}
    return said(english) == said(carried)


def english_dates(text: str, bare: bool = False) -> str:
    """Vietnamese dates written as English ones, so a translation need not re-type them:
    "ngày 20-10" -> "20 October", "21/1/2025" -> "21 January 2025", "tháng 11/2025" -> "November
    2025". Day-month order is the Vietnamese one; anything that is not a valid date is left as is.
    A bare "20-10" (no "ngày", no year, no slash) is a date only when `bare` (a when-question):
    elsewhere it may be a score."""

    def dmy(m: re.Match) -> str:
        day, month, year = int(m.group(2)), int(m.group(3)), m.group(4)
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return m.group(0)
        if not (bare or m.group(1) or year or "/" in m.group(0)):
            return m.group(0)
        lead = m.group(0)[: m.start(2) - m.start(0)]
        lead = "" if m.group(1) and m.group(1).lower() in ("ngày", "hôm") else lead
        return lead + f"{day} {_MONTHS[month - 1]}" + (f" {year}" if year else "")

    text = _MONTH_YEAR.sub(lambda m: f"{_MONTHS[int(m.group(1)) - 1]} {m.group(2)}" if 1 <= int(m.group(1)) <= 12 else m.group(0), text)
    text = _DMY.sub(dmy, text)
    return _MONTH.sub(lambda m: _MONTHS[int(m.group(1)) - 1] if 1 <= int(m.group(1)) <= 12 else m.group(0), text)
