"""Dates as Vietnamese news lines write them, read against the article's own date.

"ngày 20-10", "hôm 18-10", "21/10/2025", "tháng 2-2022", "hôm qua", "tuần trước", "hôm thứ Năm":
`event_date` finds the first such expression in a line and resolves it to a calendar date (day,
week or month precision) using the article's date line for what the line leaves out. What cannot
be resolved (a day and month in an article with no date, and no year in the line) is kept as
written and marked unresolved: a timeline says so rather than guess a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
DMY = re.compile(r"\b(ngày|hôm|sáng|chiều|tối|đêm)?\s*(\d{1,2})\s*[-/]\s*(\d{1,2})(?:\s*[-/]\s*(\d{4}))?(?![\d/-])", re.IGNORECASE)
MONTH_YEAR = re.compile(r"\btháng\s+(\d{1,2})(?:\s*[-/]\s*|\s+năm\s+)(\d{4})\b", re.IGNORECASE)
MONTH = re.compile(r"\btháng\s+(\d{1,2})\b(?!\s*[-/]\s*\d)", re.IGNORECASE)
_YEAR = re.compile(r"\bnăm\s+(\d{4})\b", re.IGNORECASE)
_WEEKDAYS = {"hai": 0, "ba": 1, "tư": 2, "năm": 3, "sáu": 4, "bảy": 5}
_WEEKDAY = re.compile(r"\b(?:hôm|ngày|vào)\s+(thứ\s+(hai|ba|tư|năm|sáu|bảy)|chủ nhật)\b", re.IGNORECASE)
_COUNTED_BEFORE = re.compile(r"\b(\d+|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|vài|mấy|nhiều)\s*$", re.IGNORECASE)
_RELATIVE = re.compile(r"\b(hôm qua|ngày hôm qua|hôm nay|tuần trước|tuần qua|tuần này|tuần tới|tuần sau|tháng trước|năm ngoái)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EventDate:
    written: str  # as the line has it: "ngày 20-10", "tuần trước"
    day: date | None  # the resolved day (the Monday of a week, the 1st of a month); None: unresolved
    precision: str  # day | week | month | year
    note: str = ""  # why it is not resolved ("year not stated")
    partial: tuple[int, int] | None = None  # (day, month) of an unresolved day-month

    @property
    def resolved(self) -> bool:
        return self.day is not None

    @property
    def iso(self) -> str | None:
        if self.day is None:
            return None
        if self.precision == "month":
            return self.day.strftime("%Y-%m")
        if self.precision == "year":
            return str(self.day.year)
        return self.day.isoformat() + ("/week" if self.precision == "week" else "")

    def english(self) -> str:
        d = self.day
        if d is None:
            said = f"{self.partial[0]} {MONTHS[self.partial[1] - 1]}" if self.partial else self.written
            return f"{said} ({self.note})" if self.note else said
        if self.precision == "week":
            return f"week of {d.day} {MONTHS[d.month - 1]} {d.year}"
        if self.precision == "month":
            return f"{MONTHS[d.month - 1]} {d.year}"
        if self.precision == "year":
            return str(d.year)
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"

    def vietnamese(self) -> str:
        d = self.day
        if d is None:
            return f"{self.written} (không rõ năm)" if self.note else self.written
        if self.precision == "week":
            return f"tuần {d.day}/{d.month}/{d.year}"
        if self.precision == "month":
            return f"tháng {d.month}/{d.year}"
        if self.precision == "year":
            return f"năm {d.year}"
        return f"{d.day}/{d.month}/{d.year}"


def article_day(text: str) -> date | None:
    """An article's date line ("2025-10-21") as a date; None when it has none or it is malformed."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(month: int, day: int, around: date) -> date | None:
    """The day-month closest to the article's date (a line may report the past or announce the near future)."""
    options = [d for y in (around.year - 1, around.year, around.year + 1) if (d := _valid(y, month, day))]
    return min(options, key=lambda d: abs((d - around).days), default=None)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def event_date(line: str, article: date | None) -> EventDate | None:
    """The first date expression in `line`, resolved against the article's date; None if it has none."""
    found: list[tuple[int, EventDate]] = []
    for m in DMY.finditer(line):
        day, month, year = int(m.group(2)), int(m.group(3)), m.group(4)
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        if not (m.group(1) or year or "/" in m.group(0)):
            continue  # a bare "20-10" may be a score
        written = m.group(0).strip()
        if year:
            found.append((m.start(), EventDate(written, _valid(int(year), month, day), "day")))
        elif article is not None:
            found.append((m.start(), EventDate(written, _nearest(month, day, article), "day")))
        else:
            found.append((m.start(), EventDate(written, None, "day", "year not stated", (day, month))))
    for m in MONTH_YEAR.finditer(line):
        month = int(m.group(1))
        if 1 <= month <= 12:
            found.append((m.start(), EventDate(m.group(0), date(int(m.group(2)), month, 1), "month")))
    for m in _YEAR.finditer(line):
        found.append((m.start(), EventDate(m.group(0), date(int(m.group(1)), 1, 1), "year")))
    for m in _WEEKDAY.finditer(line):
        name = m.group(1).lower()
        target = 6 if name == "chủ nhật" else _WEEKDAYS[m.group(2).lower()]
        if article is None:
            found.append((m.start(), EventDate(m.group(0), None, "day", "no date to count from")))
        else:
            back = (article.weekday() - target) % 7 or 7  # the last such weekday before the article
            found.append((m.start(), EventDate(m.group(0), article - timedelta(days=back), "day")))
    for m in _RELATIVE.finditer(line):
        word = m.group(1).lower()
        if _COUNTED_BEFORE.search(line[: m.start()]):
            continue  # "trong vòng hai tuần tới": a span, not next week
        if article is None:
            found.append((m.start(), EventDate(m.group(0), None, "day", "no date to count from")))
            continue
        if word in ("hôm qua", "ngày hôm qua"):
            found.append((m.start(), EventDate(m.group(0), article - timedelta(days=1), "day")))
        elif word == "hôm nay":
            found.append((m.start(), EventDate(m.group(0), article, "day")))
        elif word in ("tuần trước", "tuần qua"):
            found.append((m.start(), EventDate(m.group(0), _monday(article) - timedelta(days=7), "week")))
        elif word == "tuần này":
            found.append((m.start(), EventDate(m.group(0), _monday(article), "week")))
        elif word in ("tuần tới", "tuần sau"):
            found.append((m.start(), EventDate(m.group(0), _monday(article) + timedelta(days=7), "week")))
        elif word == "tháng trước":
            first = article.replace(day=1) - timedelta(days=1)
            found.append((m.start(), EventDate(m.group(0), first.replace(day=1), "month")))
        elif word == "năm ngoái":
            found.append((m.start(), EventDate(m.group(0), date(article.year - 1, 1, 1), "year")))
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    start, first = found[0]
    # "ngày hôm qua 11/4": a relative word right before an explicit date gives way to the date
    for pos, other in found[1:]:
        if pos - start <= len(first.written) + 2 and other.precision == "day" and first.precision == "day" and first.written.lower().startswith(("hôm", "ngày hôm")):
            return other if other.resolved or not first.resolved else first
    return first


def sort_key(d: EventDate | None, file: str = "", line: int = 0) -> tuple:
    """Resolved dates in calendar order (a year, month or week before the days inside it); then
    the unresolved, article by article: a day-month without a year by month and day (one article's
    dates share a year more often than not), the undated in the article's own order."""
    if d is not None and d.day is not None:
        return (0, d.day, {"year": 0, "month": 1, "week": 2, "day": 3}[d.precision], "", 0, 0)
    month, day = (d.partial[1], d.partial[0]) if d is not None and d.partial else (0, 0)
    return (1, date.max, 0, file, line if not month else 0, month * 100 + day)


# The period a list question asks about: "in 2025", "in November 2025", "since the call of 12
# February 2025", "năm 2025", "kể từ ... ngày 20/10/2025", "from 19/1/2025 to ...". A single day
# ("on 21 January 2025") is not a period: the lines that report what was said that day may date
# something else (the report it answered).
_MONTH_NAMES = "|".join(MONTHS)
_EN_DATE = re.compile(
    rf"\b(?:(\d{{1,2}}) ({_MONTH_NAMES})(?:,? (\d{{4}}))?|({_MONTH_NAMES}) (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?|"
    rf"({_MONTH_NAMES}),? (\d{{4}})|(\d{{1,2}})/(\d{{1,2}})/(\d{{4}})|(\d{{4}}))\b",
    re.IGNORECASE,
)
_VI_DATE = re.compile(r"\b(?:(\d{1,2})\s*[-/]\s*(\d{1,2})\s*[-/]\s*(\d{4})|tháng\s+(\d{1,2})(?:\s*[-/]\s*|\s+năm\s+)(\d{4})|(?:năm\s+)?(\d{4}))\b", re.IGNORECASE)
_FROM = {False: r"\b(since|after|from|starting)\b", True: r"(?i)\b(kể từ|từ sau|từ khi|từ|sau khi|sau)\b"}
_UNTIL = {False: r"\b(before|until|till|up to|to|through)\b", True: r"(?i)\b(trước khi|trước|đến|cho đến|tới)\b"}


@dataclass(frozen=True, slots=True)
class Period:
    start: date | None  # the first day asked about; None: open
    end: date | None  # the last day asked about; None: open

    def admits(self, when: EventDate | None, article: date | None) -> bool:
        """Whether an item may belong to the period: its resolved date overlaps it; an item its line
        does not date may, unless its article appeared before the period began (an article cannot
        report what happened after it). Unresolved dates are kept: nothing says they fall outside."""
        if when is not None and when.day is not None:
            first, last = when.day, _last_day(when)
            return (self.start is None or last >= self.start) and (self.end is None or first <= self.end)
        return not (self.start is not None and article is not None and article < self.start)

    def words(self, vietnamese: bool) -> str:
        """The period as an answer's lead says it: "since 12 February 2025", "in November 2025", "năm 2025"."""
        day = lambda d: EventDate("", d, "day").vietnamese() if vietnamese else EventDate("", d, "day").english()
        s, e = self.start, self.end
        if s and e and s.year == e.year and (s.month, s.day, e.month, e.day) == (1, 1, 12, 31):
            return f"năm {s.year}" if vietnamese else f"in {s.year}"
        if s and e and s.day == 1 and e == _last_day(EventDate("", s, "month")):
            return EventDate("", s, "month").vietnamese() if vietnamese else f"in {EventDate('', s, 'month').english()}"
        if s and e:
            return f"từ {day(s)} đến {day(e)}" if vietnamese else f"from {day(s)} to {day(e)}"
        if s:
            return f"từ {day(s)}" if vietnamese else f"since {day(s)}"
        return f"đến {day(e)}" if vietnamese else f"until {day(e)}"


def _last_day(when: EventDate) -> date:
    d = when.day
    assert d is not None
    if when.precision == "week":
        return d + timedelta(days=6)
    if when.precision == "month":
        return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if when.precision == "year":
        return date(d.year, 12, 31)
    return d


def _span(m: re.Match, vietnamese: bool) -> tuple[date, date] | None:
    """The first and last day a date expression of a question covers."""
    g = m.groups()
    month = lambda name: [x.lower() for x in MONTHS].index(name.lower()) + 1
    try:
        if vietnamese:
            if g[2]:
                d = date(int(g[2]), int(g[1]), int(g[0]))
                return d, d
            if g[4]:
                d = date(int(g[4]), int(g[3]), 1)
                return d, _last_day(EventDate("", d, "month"))
            year = int(g[5])
        else:
            if g[0] and g[2]:
                d = date(int(g[2]), month(g[1]), int(g[0]))
                return d, d
            if g[3] and g[5]:
                d = date(int(g[5]), month(g[3]), int(g[4]))
                return d, d
            if g[6]:
                d = date(int(g[7]), month(g[6]), 1)
                return d, _last_day(EventDate("", d, "month"))
            if g[10]:
                d = date(int(g[10]), int(g[9]), int(g[8]))
                return d, d
            if not g[11]:
                return None  # a day and month without a year
            year = int(g[11])
    except ValueError:
        return None
    return (date(year, 1, 1), date(year, 12, 31)) if 1900 <= year <= 2100 else None


def asked_period(question: str, vietnamese: bool) -> Period | None:
    """The period a question limits itself to, or None. A date right after "since/after/kể từ ..."
    (within a few words: "since the Trump–Putin phone call of 12 February 2025") opens it, one after
    "before/until/đến ..." closes it; a month or year with neither marker is the whole period."""
    text = " ".join(question.split())
    start = end = None
    whole = None
    for m in (_VI_DATE if vietnamese else _EN_DATE).finditer(text):
        span = _span(m, vietnamese)
        if span is None:
            continue
        before = text[max(0, m.start() - 60) : m.start()]
        marks = [(mk.end(), "from") for mk in re.finditer(_FROM[vietnamese], before, re.IGNORECASE)]
        marks += [(mk.end(), "until") for mk in re.finditer(_UNTIL[vietnamese], before, re.IGNORECASE)]
        if marks:
            kind = max(marks)[1]  # the marker closest to the date
            if kind == "from":
                start = span[0] if start is None else start
            else:
                end = span[1] if end is None else end
        elif span[0] != span[1] and whole is None:  # "in 2025", "tháng 11/2025"; not a single day
            whole = span
    if start is None and end is None:
        return Period(*whole) if whole else None
    return Period(start, end)
