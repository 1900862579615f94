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
