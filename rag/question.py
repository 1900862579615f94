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
    ("who", r"^(who|whom|whose)\b|\bwhom?\b"),
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
    "agreements|visits|conversations|exchanges|things|dates|comments|positions|actions|questions|hopes|views|"
    "expectations|demands|concerns|differences|contrasts|developments|deadlines|milestones|preparations|activities|"
    "arguments|claims|promises|terms|details|elements|parts|results|outcomes|options|signals|reactions|responses|obstacles"
)
_SINGULARS = "date|time|occasion|call|meeting|statement|step|reason|point|person|official|country"
# Not a list however it is worded: "Name a luxury division", "in order to", "Kể tên một ...".
_ONE_ITEM = {
    False: re.compile(r"^(list|name) (a|an|one)\b"),
    True: re.compile(r"\b(ke ten|neu|liet ke) (mot|1)\b(?! so\b)"),  # not "một số": some
}
# "những/các <noun> nào/gì" asks for several things; the noun is one to three syllables that are not
# a verb or copula of the question ("các bác sĩ nhận xét như thế nào", "tên của các đối tác là gì").
_NOUNS = r"(?:(?!(?:la|da|duoc|co|cua|se|bi|dang|the|nhu|lam|nghi|xet|thi|gom|bao|nam|thang|ngay|tuan|luc)\b)\w+ ?){1,3}"
_SHAPES = {
    False: [
        (
            "timeline",
            (r"\b(in (chronological |what |the right )?order(?! to\b| for\b| that\b)|chronolog\w*|(a|the) timeline of|"
            r"sequence of events|what (has |had )?happened (between|in|during|since|after|before|at|on)|order of events|"
            r"over time|step by step|(trace|walk me through|history of)\b|"
            r"how (did|has|have|do|does) .+ (develop(ed)?|unfold(ed)?|evolved?|progress(ed)?|changed?))\b"),
        ),
        (
            "list",
            (rf"^(list|name|enumerate|summari[sz]e|outline|give me)\b|\b(what|which) (\w+ ){{0,3}}({_PLURALS})\b|"
            r"\bwhat (did|does|has|have) .+ (say|said|tell|told)\b.* (about|on)\b|"
            rf"\bwhat else\b|\b(all|every) (the )?(\w+ )?({_PLURALS}|{_SINGULARS})\b|\band \w+( \w+)? each\b|"
            rf"\bwho (are|were) (the )?(\w+ ){{0,2}}({_PLURALS})\b|\bboth (sides|parties|countries|leaders|ministers) (say|said|tell|told|describe|described|report|reported)\b|"
            rf"^(describe|mention) (the |all |every )?(\w+ ){{0,2}}({_PLURALS})\b|"
            r"\bwhat (would|will|does|did|could|might) .+ include\b|\bhow (do|does|did) .+ (contrast|compare)\b"),
        ),
    ],
    True: [
        (
            "timeline",
            (r"\b(theo thu tu|theo trinh tu|dien bien|theo dong thoi gian|trinh tu thoi gian|lan luot|theo thoi gian|"
            r"(nhung|cac|tung) moc( thoi gian)?|qua thoi gian|tien trien|"
            r"(nhung|cac) (gi|su kien|viec) (nao )?da (xay ra|dien ra))\b"),
        ),
        (
            "list",
            (r"(?<!da )\b(liet ke|ke ten|ke ra|ke lai|hay ke|tom tat|neu cac|neu nhung|neu mot so)\b|"
            rf"\b(nhung|cac) {_NOUNS} (va {_NOUNS} )?(nao|gi)\b|"
            r"\bnoi (nhung )?gi ve\b|\b(nhung|cac) (dieu|gi)( gi| nao)?\b|\bnhung ai\b|"
            r"\b(gi|nao|ra sao|the nao)\b.* va .*\b(gi|nao|ra sao|the nao)\b"),
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
        """Answered by a phrase copied from a line (not by the model's own sentence). An English
        yes-no question is too: asked to answer an English yes-no question from Vietnamese lines
        in its own words, the model said NOT FOUND or wrote what the check dropped, with the
        answering line ranked first; the statement copied from that line ("không xác nhận hay
        bác bỏ", "chưa liên lạc với Moscow") answers it."""
        return self.kind != "yes-no" or not self.vietnamese


def analyse(text: str) -> Question:
    vi = is_vietnamese(text)
    folded = fold(" ".join(text.split()))
    shape = "one" if _ONE_ITEM[vi].search(folded) else next((s for s, pattern in _SHAPES_RE[vi] if pattern.search(folded)), "one")
    for kind, pattern in _VI_RE if vi else _EN_RE:
        if pattern.search(folded):
            return Question(text, vi, kind, shape)
    return Question(text, vi, "what", shape)
