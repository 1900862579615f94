"""One analysis of a question, computed once per question and handed to the answer step.

What it asks decides how the answer is built: a yes-no question needs the model's own words
("Yes, ..."), every other kind is answered by a phrase copied out of the chosen line
(rag/answer/reader.py); a when-question may read a bare "20-10" as a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import fold, is_vietnamese

KINDS = ("who", "when", "where", "amount", "yes-no", "why", "what")

_EN = [
    ("when", r"^(when|what time)\b|\b(what|which) (date|day|year|month)\b"),
    ("amount", r"\bhow (many|much|long|old|often|far)\b|\bwhat (number|percentage|share)\b"),
    ("who", r"^(who|whom|whose)\b|\bwho\b"),
    ("where", r"^where\b|\bin (which|what) (city|country|place)\b"),
    ("why", r"^why\b|\bfor what reason\b"),
    ("yes-no", r"^(did|does|do|is|are|was|were|has|have|had|can|could|will|would|should|shall)\b"),
]
_VI = [
    ("when", r"\b(khi nao|luc nao|ngay nao|hom nao|bao gio|thoi diem nao|nam nao|thang nao|thoi gian nao|ngay bao nhieu)\b"),
    ("amount", r"\b(bao nhieu|bao lau|may)\b"),
    ("who", r"(^|\s)(ai|nhung ai|la ai)(\s|\?|$)"),
    ("where", r"\b(o dau|tai dau|noi nao|dia diem nao|thanh pho nao|nuoc nao|quoc gia nao)\b"),
    ("why", r"\b(tai sao|vi sao|ly do|vi le gi)\b"),
    ("yes-no", r"\bco\b.*\b(khong|chua)\s*\??\s*$|\b(phai khong|dung khong|chua)\s*\??\s*$"),
]
_EN_RE = [(k, re.compile(p)) for k, p in _EN]

# Questions whose answer is spread over many lines: a timeline (ordered by the events' dates) or a list.
_PLURALS = (
    "contacts|calls|phone calls|meetings|talks|summits|topics|issues|subjects|events|steps|statements|remarks|"
    "countries|people|officials|leaders|places|cities|points|conditions|reasons|measures|proposals|plans|"
    "agreements|visits|conversations|exchanges|things|dates|comments|positions|actions"
)
_SHAPES = {
    False: [
        (
            "timeline",
            (r"\b(in (chronological |what |the right )?order|chronolog\w*|(a|the) timeline of|sequence of events|"
            r"what happened (between|in|during|since|after|before|at|on)|order of events)\b"),
        ),
        (
            "list",
            (rf"^(list|name|enumerate)\b|\b(what|which) (\w+ ){{0,3}}({_PLURALS})\b|"
            r"\bwhat (did|does|has|have) .+ (say|said|tell|told) (\w+ )?(about|on)\b|"
            rf"\bwhat else\b|\ball (the )?(\w+ )?({_PLURALS})\b"),
        ),
    ],
    True: [
        (
            "timeline",
            (r"\b(theo thu tu|theo trinh tu|dien bien|dong thoi gian|trinh tu thoi gian|lan luot|theo thoi gian|"
            r"(nhung|cac) (gi|su kien|viec) (nao )?da (xay ra|dien ra))\b"),
        ),
        (
            "list",
            (r"\b(liet ke|ke ten|ke ra|neu cac|neu nhung)\b|"
            r"\b(nhung|cac) (cuoc|lan|su kien|chu de|van de|quan chuc|nuoc|quoc gia|buoc|phat bieu|tuyen bo|dieu kien|"
            r"ly do|de xuat|ke hoach|noi dung|nguoi|hoi nghi|cuoc goi|thoa thuan|chuyen tham|y kien)( \w+){0,3} (nao|gi)\b|"
            r"\bnoi (nhung )?gi ve\b|\b(nhung|cac) (dieu|gi)( gi| nao)?\b"),
        ),
    ],
}
_SHAPES_RE = {vi: [(k, re.compile(p)) for k, p in rows] for vi, rows in _SHAPES.items()}
_VI_RE = [(k, re.compile(p)) for k, p in _VI]


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    vietnamese: bool
    kind: str  # one of KINDS
    shape: str = "one"  # one (a single fact) | list | timeline (a list ordered by the events' dates)

    @property
    def many(self) -> bool:
        """Answered by a list of cited items, not one phrase."""
        return self.shape != "one"

    @property
    def copies_an_answer(self) -> bool:
        """Answered by a phrase copied from a line (not by the model's own sentence)."""
        return self.kind != "yes-no"


def analyse(text: str) -> Question:
    vi = is_vietnamese(text)
    folded = fold(" ".join(text.split()))
    shape = next((s for s, pattern in _SHAPES_RE[vi] if pattern.search(folded)), "one")
    for kind, pattern in _VI_RE if vi else _EN_RE:
        if pattern.search(folded):
            return Question(text, vi, kind, shape)
    return Question(text, vi, "what", shape)
