"""List and timeline answers: questions whose answer is spread over many lines.

"What contacts between Russian and US officials do the articles report, in order?" is answered
by a list of items, each taken from one line that states it, each cited:

  1. candidates: the lines retrieval ranks highest (instruction lines, photo captions and title
     lines never), the question's names required;
  2. when the question asks for a kind of event (contacts, calls, meetings, visits, statements,
     plans: `FOCUS`), a line must state such an event itself: an event word of that kind that is
     neither denied ("chưa liên lạc") nor only planned ("sẽ gặp"), unless plans are asked for;
     then the model answers one fixed Vietnamese yes-no question of that kind about the line alone
     (`CHECKS`: "does this line say that a call, meeting or talks actually took place?"), and the
     line stays when its Yes is likely enough (`MIN_YES`). A list question of what one person said
     ("What did Ushakov tell reporters ...?", "Ông Peskov đánh giá thế nào ...?": `speaker`) takes
     the lines that report that person speaking (`speaks`: the name, then a verb of speech), the
     closest to the question first, at most `MAX_STATEMENTS`, with no model asked. A list
     question of neither ("which topics ...", "... theo trình tự như thế nào?") takes the
     `MAX_RELATED` lines retrieval ranks first, from articles naming everyone the question names,
     again with no model asked (rag/answer/pipeline.py);
  3. an item is its line's own words (its first sentence; for a related line, the part closest to
     the question), quoted, in either language. Asked to
     restate each line in one short English sentence, the model changed the act or the subject
     of 4 of 8 items on the contacts question ("Lavrov met Rubio" for a phone call; "Rubio and
     Putin agreed ..." for what Rubio said both capitals agree on), and the citation check, a
     name check, a date check and a check of the kind of event caught only some: an item is
     the line's words, or it is not an item;
  4. each item's date is read from its line by our code (rag/dates.py), against the article's
     date line; a date that cannot be resolved is shown as written, marked so. A line that
     reports speech dates the statement before its verb of speech and what was said after it
     (`item_date`): "Ngày 13-2, ông Peskov nói rằng ... cuộc điện đàm mới đây" is not a call on 13-2;
  5. items that report one event (same day, or same article, lines close in meaning) merge,
     keeping every citation; a timeline is ordered by date, undated items last.

Why fixed questions of a kind, not the user's question: measured on 25 labelled lines for one
list question, a 1.5B model asked "does this line report one of the things asked for?" (the
user's question quoted, in English or Vietnamese) said Yes to nearly all (p 0.77 to 0.89 for
both true and false lines: no separation), and asked to pick lines one after another it picked
them in the order shown. Asked the fixed Vietnamese question of the kind, true lines got p 0.90
to 0.96 and false ones 0.82 to 0.93 (13 of 14 below 0.91); the same question in English
separated less (0.72 to 0.88 against 0.44 to 0.81).

Nothing an item says comes from anywhere but its line: the model only answers yes or no.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rag.dates import EventDate, event_date
from rag.text import fold

JUDGE_SYSTEM = (
    "Bạn đọc một dòng trong một bài báo tiếng Việt và trả lời một câu hỏi có/không về riêng dòng đó. Answer Yes or No."
)
# The yes-no question the model answers about each candidate line, by the kind of event asked for.
_WHAT = {
    "call": "một cuộc điện đàm (cuộc gọi điện thoại)",
    "meeting": "một cuộc gặp, cuộc hội đàm hoặc hội nghị",
    "contact": "một cuộc điện đàm, cuộc gặp hoặc cuộc hội đàm",
}
CHECKS = {
    "happened": "Dòng này có cho biết {what} đã thực sự diễn ra không (không phải chỉ dự kiến, mong muốn hay bị phủ nhận)?",
    "planned": "Dòng này có cho biết {what} đang được dự kiến, chuẩn bị hoặc lên kế hoạch không?",
}
MIN_YES = 0.91  # p(Yes) a line needs to stay an item (see the module docstring)
MAX_JUDGED = 24  # candidate lines the model is asked about (about 0.8 s each on 2 cores; 16 lost two of the contacts question's events, docs/results.md)
JUDGED_CHARS = 320  # a longer line is shown to the judge as its window closest to the question

# Kinds of event a list question may ask for: (words in an English question, words in a
# Vietnamese question, words that state such an event in a Vietnamese line). Folded (no diacritics).
_CALL_LINE = r"dien dam|cuoc goi|goi dien|dien thoai|noi chuyen|tro chuyen|lien lac"
_MEETING_LINE = r"gap|hoi dam|cuoc hop|thuong dinh|den tham|chuyen tham|dam phan|tiep xuc|den moscow|toi nga"
FOCUS = {
    "call": (
        r"(phone )?calls?|phone conversations?",
        r"(cuoc )?(dien dam|goi dien|cuoc goi)",
        _CALL_LINE,
    ),
    "meeting": (
        r"meetings?|talks|summits?|visits?|negotiations?",
        r"(cuoc )?(gap go|gap|hoi dam|hop|hoi nghi|thuong dinh|chuyen tham|dam phan)",
        _MEETING_LINE,
    ),
    "contact": (
        r"contacts?|exchanges?|communications?",
        r"(cuoc )?(tiep xuc|lien lac|trao doi)",
        _CALL_LINE + "|" + _MEETING_LINE,
    ),
}
# The list is of the events themselves: "which meetings ...", "list the calls ...", "các cuộc điện
# đàm ...", not "the topics of the talks" (a list of something else, answered from its best line).
_LISTED = {
    False: r"\b(what|which|list|name|all|any|report)( the| of the| all the)?( \w+){{0,3}} ({words})\b",
    True: r"\b((cac|nhung)( cuoc| lan)?|(liet ke|ke ten)( \w+){{0,2}}) ({words})\b",
}

_PLANS_ASKED = re.compile(r"\b(plan\w*|planned|will|upcoming|expected|scheduled|future|next|du kien|se|ke hoach|sap toi|chuan bi)\b")
_DENIED = re.compile(r"\b(chua|khong|chang|tu choi)\b(\s+\w+){0,3}\s*$")
_PLANNED = re.compile(
    r"\b(se|du kien|co the|ke hoach|chuan bi|sap|hy vong|mong|muon|y dinh|san sang|sap xep|de nghi|chi dao|yeu cau|kha nang|"
    r"xem xet|lan toi|neu|can)\b(\s+\w+){0,4}\s*$"
)
_PLANNED_AFTER = re.compile(r"^\s*(\w+\s+)?(se|du kien|sap)\b")  # "cuộc gọi sẽ là ...": a call still to come
_CAPTION = re.compile(r"\bẢnh\s*:", re.IGNORECASE)
_SOURCE = re.compile(r"^\s*(Nguồn|Theo|Tác giả)\b", re.IGNORECASE)
SOURCE_WORDS = 8  # "Theo Theo RIA Novosti", "Nguồn: Tass, Reuters"; not "Theo bộ này, hai nhà ngoại giao đã ..."
POOL = 60  # lines retrieval hands to the list step (filtered by words before any is judged)
MAX_ITEMS = 8
SAME_EVENT = 0.6  # cosine between two lines of one day that report one event
SAME_ARTICLE_EVENT = 0.8  # cosine between two undated lines of one article that report one event


def focus(question: str, vietnamese: bool) -> list[str]:
    """The kinds of event a list question lists (FOCUS keys): the event words it asks for, in
    the plural or after a list word ("which meetings", "các cuộc điện đàm")."""
    folded = fold(question)
    pattern = _LISTED[vietnamese]
    return [k for k, (en, vi, _) in FOCUS.items() if re.search(pattern.format(words=vi if vietnamese else en), folded)]


# "What did X say/tell ...", "X đã phát biểu những gì", "X đánh giá thế nào": a list of what one
# person said. The speaker is the last name the articles know before the verb.
_ASKS_SAID = {
    False: re.compile(r"\bwhat (?:did|does|do|has|have) (.+?) (?:say|said|tell|told|state|stated|write|wrote|announce|announced)\b", re.IGNORECASE),
    True: re.compile(r"^(.+?)\b(?:đã |từng )?(?:nói|phát biểu|tuyên bố|cho biết|đánh giá|bình luận|nhận xét|đưa ra những tuyên bố)\b", re.IGNORECASE),
}
# Verbs that report speech in a Vietnamese line ("ông Peskov cho biết", "- ông Peskov nói thêm").
# Not "phát biểu": in these articles mostly a noun ("Những phát biểu của ông Ushakov ...").
_SPEECH_VERBS = (
    "nói", "cho biết", "tuyên bố", "nhấn mạnh", "khẳng định", "tiết lộ", "mô tả", "bày tỏ", "nhắc lại", "lưu ý",
    "thông báo", "đề cập", "thừa nhận", "bình luận", "kêu gọi", "cảnh báo", "xác nhận", "nhận định",
)
# Speech only right after a speaker's name: elsewhere mostly a noun ("đánh giá") or not speech.
_AFTER_A_NAME = ("đánh giá", "viết", "hứa", "nói thêm")
# Folded, after a name (speaks): "noi" is also "nơi", but not right after "ông Peskov".
_SAYS = re.compile(r"\b(" + "|".join(fold(v) for v in _SPEECH_VERBS + _AFTER_A_NAME) + r")\b")
# Written out, to find where a line's report of speech begins (item_date); "nói chuyện" is a talk,
# an event, not speech.
_SPEECH = re.compile(r"\b(nói(?! chuyện)|" + "|".join(_SPEECH_VERBS[1:]) + r")\b", re.IGNORECASE)
_BEFORE_OR_AFTER = re.compile(r"\b(sau|trước|kể từ|từ)\b", re.IGNORECASE)
MAX_STATEMENTS = 5  # lines of one speaker, the closest to the question first
MAX_RELATED = 4  # lines of a list of neither events nor statements: retrieval's best, as many as a single answer is shown
RELATED_CHARS = 320  # such an item is the window of its line that shares most words with the question (prompt.trim), up to this long


# "Peskov's comments", "các phát biểu của ông Peskov": what one person said, named as a thing.
_SAID_OF = {
    False: re.compile(r"\b((?:[A-Z][\w.-]*\s+){0,3}[A-Z][\w.-]*)['’]s\s+(?:\w+\s+)?(?:comments?|statements?|remarks?|words|views?|positions?|reactions?|responses?|assessments?|claims?)\b"),
    True: re.compile(r"\b(?:phát biểu|tuyên bố|bình luận|nhận xét|ý kiến|quan điểm|nhận định|đánh giá)\s+của\s+(.+?)(?=[,.?;]|\s(?:về|được|trong|tại|sau|với)\b|$)", re.IGNORECASE),
}


@functools.cache
def _places() -> frozenset[str]:
    from rag.gazetteer import NAMES

    return frozenset(fold(w) for vi, en in NAMES.items() for name in (vi, *en) for w in name.split())


def speaker(question: str, vietnamese: bool, names: frozenset[str], places: frozenset[str] = frozenset()) -> str:
    """The person a "what did X say" list question asks about (folded), or "": the last name the
    articles know before the verb, or after "'s comments" / "phát biểu của"; never a country,
    capital or institution ("Ông Lavrov kỳ vọng gì ở Washington và đánh giá ..."), nor another of
    the `places` the articles write (pipeline.qualifying_places: "What did Hungary's prime minister
    say ...?" asks about someone the articles never name, not about Hungary)."""
    from rag.text import words as split

    text, places = " ".join(question.split()), _places() | places
    for pattern in (_ASKS_SAID[vietnamese], _SAID_OF[vietnamese]):
        m = _said(pattern, text)
        said = m.group(1) if m else ""
        # a name after "ở/tại/với/in/at/with" is where or with whom, not who spoke
        said = re.sub(r"(?i)\b(ở|tại|đến|tới|với|in|at|to|with|from)\s+\S+", " ", said)
        known = [fold(w) for w in split(said) if w[:1].isupper() and fold(w) in names and fold(w) not in places]
        if known:
            return known[-1]
    return ""


def _said(pattern: re.Pattern, text: str) -> re.Match | None:
    """`pattern`'s match, unless what someone said is one of several things asked ("the call and
    Peskov's reaction"): then the question lists more than statements."""
    m = pattern.search(text)
    return None if m is None or re.search(r"\b(and|và)\s+$", text[: m.start()], re.IGNORECASE) else m


def asks_said(question: str, vietnamese: bool) -> bool:
    """A "what did X say" question, whoever X is ("Ông ấy nói gì về ...?", "Peskov's comments" too)."""
    text = " ".join(question.split())
    return bool(_said(_ASKS_SAID[vietnamese], text) or _said(_SAID_OF[vietnamese], text))


def speaks(line: str, who: str) -> bool:
    """The line reports `who` (folded) speaking: the name, then within a few words and no
    punctuation a verb of speech ("ông Peskov cho biết", "Ngoại trưởng Rubio nói"), or "theo ông X"."""
    folded = fold(" ".join(line.split()))
    said = rf"\b{re.escape(who)}\b(?:(?!{re.escape(who)})[^.,;:“”\"]){{0,30}}?{_SAYS.pattern}"
    return bool(re.search(said, folded) or re.search(rf"\btheo (ong |ba )?(\w+ ){{0,2}}{re.escape(who)}\b", folded))


def item_date(line: str, article, kinds: list[str], statements: bool) -> EventDate | None:
    """The date a list item's line gives for what the item lists (rag/dates.py reads the first date
    of the line). A line that reports speech has two: the day something was said ("Ngày 13-2, người
    phát ngôn ... nói rằng ... cuộc điện đàm mới đây") and dates inside what was said ("Ngoại
    trưởng Rubio nói ... cuộc điện đàm ... hôm 20/10").
      - For what someone said (`statements`), only a date before the verb of speech dates the
        statement, and only one that is not "after"/"before" something ("Sau cuộc điện đàm ngày
        12-2, ông Peskov nói"): the statement was made later, on a day the line does not give.
      - For events (`kinds`), a date before the verb of speech dates the report, not the event,
        when the event is named only in what was said: the event's date is the one what was said
        gives, if any (undated, the item joins its article's dated report of the event).
    Otherwise, and for any other list, the line's first date."""
    said = _SPEECH.search(line)
    if said is None or not (kinds or statements):
        return event_date(line, article)
    head = line[: said.start()]
    before = event_date(head, article)
    if statements:
        if before is None or _BEFORE_OR_AFTER.search(head[: max(0, head.find(before.written))]):
            return None
        return before
    if before is not None and not any(re.search(rf"\b({FOCUS[k][2]})\b", fold(head)) for k in kinds):
        return event_date(line[said.start() :], article)
    return event_date(line, article)


def kind_words(kinds: list[str], names: set[str]) -> str:
    """A keyword query for the lines that state events of `kinds`: their words, and the names asked about."""
    words = {w.replace("\\b", "") for k in kinds for w in FOCUS[k][2].split("|")}
    return " ".join(sorted(words | set(names)))


def states_event(line: str, kinds: list[str], plans: bool) -> bool:
    """The line itself reports an event of one of `kinds`: an event word not denied and (unless
    plans are asked for) not only planned, by the words just before it. No kinds: any line."""
    if not kinds:
        return True
    folded = fold(line)
    for kind in kinds:
        for m in re.finditer(rf"\b({FOCUS[kind][2]})\b", folded):
            before = folded[max(0, m.start() - 60) : m.start()]
            if _DENIED.search(before):
                continue
            if not plans and (_PLANNED.search(before) or _PLANNED_AFTER.search(folded[m.end() : m.end() + 20])):
                continue
            return True
    return False


def check_for(kinds: list[str], plans: bool) -> str:
    """The yes-no question about a line for the kinds asked ("" when there is none)."""
    if not kinds:
        return ""
    what = _WHAT["contact" if len(kinds) > 1 else kinds[0]]
    return CHECKS["planned" if plans else "happened"].format(what=what)


def judge_prompt(line: str, check: str) -> str:
    return f"Line: <<<{line}>>>\n{check}"


def plans_asked(question: str) -> bool:
    return bool(_PLANS_ASKED.search(fold(question)))


def is_caption(line: str, title: str) -> bool:
    """A photo caption, a source line, or the article's title repeated: not a report of its own."""
    text = " ".join(line.split())
    source = _SOURCE.search(text) and (len(text.split()) <= SOURCE_WORDS or "http" in text)
    return bool(_CAPTION.search(text) or source) or (bool(title) and fold(text) == fold(" ".join(title.split())))


LEAD = {  # {period}: the period the question keeps to (dates.Period.words), or nothing
    ("timeline", True): "Các bài báo cho biết{period}, theo thứ tự thời gian:",
    ("timeline", False): "What the articles report{period}, in date order (in their own Vietnamese words):",
    ("list", True): "Các bài báo cho biết{period}:",
    ("list", False): "What the articles report{period} (in their own Vietnamese words):",
}
# An English reader is told the items are quoted, not translated: the model's translations of whole
# lines misstated a third of them (docs/results.md, Session 25).
UNDATED = {True: "không ghi ngày", False: "no date given"}

@dataclass(slots=True)
class Item:
    text: str  # the words of its (first) line that state it
    date: EventDate | None
    sources: list = field(default_factory=list)  # rag.answer.prompt.Evidence, best first
    citations: list = field(default_factory=list)  # rag.verify.cite.Citation, numbered in the answer

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "date": self.date.iso if self.date else None,
            "date_text": self.date.written if self.date else "",
            "citations": [
                {"file": c.file, "line_start": c.line_start, "line_end": c.line_end, "quote": c.quote} for c in self.citations
            ],
        }


def clause(line: str, limit: int = 180) -> str:
    """A line's own words, short: its first sentence, cut at a word boundary."""
    text = " ".join(line.split())
    first = re.split(r"(?<=[.!?])\s+(?=[A-ZĐ“\"])", text, maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " …"
    return first


def shown_date(d: EventDate | None, vietnamese: bool) -> str:
    if d is None:
        return UNDATED[vietnamese]
    return d.vietnamese() if vietnamese else d.english()


def render(items: list[Item], shape: str, vietnamese: bool, period: str = "") -> str:
    """The answer text: a lead line (saying the period asked for, whose outside was left out), then
    one numbered item a line, each ending in its [n] markers."""
    said = (f" ({period})" if vietnamese else f" {period}") if period else ""
    out = [LEAD[(shape, vietnamese)].format(period=said)]
    for i, item in enumerate(items, 1):
        marks = " ".join(f"[{c.number}]" for c in item.citations)
        out.append(f"{i}. {dated(item, shape, vietnamese)}«{item.text}» {marks}")
    return "\n".join(out)


def dated(item: Item, shape: str, vietnamese: bool) -> str:
    """An item's date and a dash, as its line starts; "" for an undated item of a list not asked
    in date order (no "no date given" on every item)."""
    if item.date is None and shape == "list":
        return ""
    return f"{shown_date(item.date, vietnamese)} — "
