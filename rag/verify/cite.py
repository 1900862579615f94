"""Turn the model's raw text into a verified, cited answer.

Markers ([2], [1, 3], or a copied [file:line] tag) are mapped to the evidence lines the model
was shown; anything else is dropped. Each sentence keeps only the citations whose line really
supports it (shared content words and numbers, or embedding similarity for cross-lingual
answers); a sentence with no support left is removed. Nothing cites a line the model was not shown.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from rag import gazetteer
from rag.answer.prompt import NOT_FOUND, Evidence
from rag.corpus.chunking import AUTHOR
from rag.question import analyse
from rag.text import STOP, content_terms, fold, is_vietnamese, nfc, syllables, words
from rag.verify import guard

MARKER = re.compile(r"\[([^\[\]]{1,120})\]")  # a citation marker: [2], [1, 3] or a [file:line] tag
NUMBER_MARKER = re.compile(r"\[(\d{1,3})\]")  # an answer's own [n], as the answer shows it
# "[1], [2], và [3]": the words between listed markers go with them ("... bài báo,, và." otherwise).
_MARKER_LIST = re.compile(r"(\[[^\[\]]{1,120}\])(?:\s*(?:,|;|&|và|and)\s*)+(?=\[)", re.IGNORECASE)
_SENT_END = re.compile(r"(?<=[.!?。])(?<!\b[A-ZĐ]\.)\s+(?=\S)")  # not after an initial: "William E. Simon"
_NUM = re.compile(r"\d+")
_FIGURE = re.compile(r"(?<![\w.,:/-])\d+(?:[.,:/-]\d+)*(?![\w]|[.,:/-]\d)")  # a whole number: "03", "3.000", "20-10"

# Similarity functions: (sentence, evidence) -> 0..1; the pipeline passes an embedding one.
Similarity = Callable[[str, Evidence], float]


@dataclass(frozen=True, slots=True)
class Citation:
    file: str
    line_start: int
    line_end: int
    quote: str
    number: int  # its position in the answer's citation list, 1-based

    @property
    def ref(self) -> str:
        span = str(self.line_start) if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        return f"{self.file}:{span}"


@dataclass(slots=True)
class Checked:
    text: str  # the verified answer with [n] markers renumbered to `citations`
    citations: list[Citation]
    dropped: list[str] = field(default_factory=list)  # sentences removed as unsupported
    dropped_by: list[str] = field(default_factory=list)  # for each dropped sentence, the RULES name that dropped it
    invalid_markers: list[str] = field(default_factory=list)  # markers pointing at nothing shown
    injected: list[int] = field(default_factory=list)  # evidence numbers that read as instructions
    repaired: list[tuple[str, str]] = field(default_factory=list)  # (model's words, the line's) restored in copies
    said_not_found: bool = False


def split_sentences(text: str) -> list[str]:
    text = " ".join(nfc(text).split())
    # A marker after the full stop belongs to the sentence before it: "... Budapest. [1] Then ..."
    text = re.sub(r"([.!?])\s*((?:\[[^\[\]]{1,120}\]\s*)+)", lambda m: " " + m.group(2).strip() + m.group(1) + " ", text)
    return [s.strip() for s in _SENT_END.split(text) if s.strip()]


def _resolve(marker: str, evidence: list[Evidence]) -> list[Evidence] | None:
    """Evidence items a marker names; None when it is not a citation marker at all."""
    by_number = {ev.number: ev for ev in evidence}
    parts = [p.strip() for p in re.split(r"[,;]|\band\b|\bvà\b", marker) if p.strip()]
    out: list[Evidence] = []
    for p in parts:
        if re.fullmatch(r"\d{1,3}", p):
            ev = by_number.get(int(p))
            if ev is None:
                return []
            out.append(ev)
            continue
        m = re.fullmatch(r"(.+?):(\d+)(?:-(\d+))?", p)
        if not m:
            return None
        name, start = m.group(1).strip(), int(m.group(2))
        hit = [
            ev for ev in evidence if (ev.file == name or ev.file.endswith("/" + name)) and ev.start_line <= start <= ev.end_line
        ]
        if not hit:
            return []
        out.extend(hit)
    return out


def looks_like_instruction(text: str) -> bool:
    """An evidence line that addresses the assistant (an injection): never support for an answer
    (rag/verify/guard.py says how a line is read)."""
    return guard.is_instruction(text)


def lexical_support(sentence: str, ev: Evidence) -> float:
    """Share of the sentence's content words found in the evidence line; 0 if a number is invented."""
    claim = content_terms(MARKER.sub(" ", sentence))
    if not claim:
        return 0.0
    line = content_terms(ev.text)
    if not figures_hold(sentence, ev):
        return 0.0
    return len(claim & line) / len(claim)


def _pairs(text: str) -> set[str]:
    """Folded syllable pairs with at least one content syllable: "trao doi", "quan trong"."""
    folded = [fold(w) for w in syllables(MARKER.sub(" ", text))]
    return {f"{a} {b}" for a, b in itertools.pairwise(folded) if a not in STOP or b not in STOP}


def news_support(sentence: str, question: str, ev: Evidence) -> float | None:
    """Share of what the sentence adds to the question (its word pairs the question lacks) that the
    line holds; None when it adds nothing. "Peskov described the call as 'a very important
    exchange'" restates most of its question: the line to cite is the one with the exchange."""
    new = _pairs(sentence) - _pairs(question)
    return len(new & _pairs(ev.text)) / len(new) if new else None


def names_in(sentence: str, names: frozenset[str]) -> set[str]:
    """The corpus's proper names (folded) that a sentence mentions, written capitalised: an English
    "company" is a common word even where the Vietnamese corpus only ever writes "Company" in a name."""
    return {f for f, w in ((fold(w), w) for w in words(MARKER.sub(" ", sentence))) if f in names and w[:1].isupper()}


def question_names(question: str, names: frozenset[str]) -> set[str]:
    """A question's names (`names_in`), less function words: its first word ("What", "Ai") is
    capitalised whatever it is."""
    return names_in(question, names) - STOP


# Words that point back to the turn before: "he", "that", "what about"; "ông ấy", "họ", "đó", "còn".
_POINTS_BACK = re.compile(
    r"\b(he|she|they|him|her|them|his|hers|their|it|its|this|that|these|those|what about|how about|"
    r"ay|ho|do|nay|kia|con|vay)\b"
)


def follows_up(question: str, names: frozenset[str]) -> bool:
    """A question that names no one the articles name, or points back ("Did he ...?", "Ông ấy
    ..."), continues the turn before. One that names someone and points nowhere starts afresh: in
    a chat every question has a turn before, and showing it to the model as context made it answer
    "When did Ushakov talk to reporters?" with the previous answer's Peskov."""
    return not question_names(question, names) or bool(_POINTS_BACK.search(fold(question)))


def _context(ev: Evidence, article: Callable[[str], str] | None, names: frozenset[str] | None = None) -> str:
    """What a cited line vouches for: the line and its article's title; a byline speaks for the
    whole article ("X wrote the article about Y").

    With `names`, a line that names people itself takes from the title only the rest of those
    names ("Marco" of the title's "Marco Rubio" for a line saying "Rubio"): a line about Biden does
    not vouch for the Trump of its title."""
    text = ev.text
    own = names_in(ev.text, names) if names is not None else set()
    if not own:
        text += " " + ev.title
    else:
        text += " " + " ".join(run for run in _name_runs(ev.title) if own & {fold(w) for w in words(run)})
    if article is not None and ev.text.startswith(AUTHOR):
        text += " " + article(ev.file)
    return text


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _name_runs(text: str) -> list[str]:
    """Runs of capitalised words ("Marco Rubio", "Trump-Putin")."""
    out, run = [], []
    for tok in _TOKEN.findall(nfc(text)):
        if tok[0].isupper():
            run.append(tok)
        elif tok in "-–" and run:
            continue
        else:
            if run:
                out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return out


def names_covered(
    claimed: set[str], cited: list[Evidence], article: Callable[[str], str] | None = None, names: frozenset[str] | None = None
) -> bool:
    """Every name the sentence uses appears in what a cited line vouches for (_context)."""
    if not claimed:
        return True
    seen = set()
    for ev in cited:
        seen |= {fold(w) for w in words(_context(ev, article, names))}
    return claimed <= seen


_DECLINE = re.compile(
    r"\b(does not|doesn't|do not|don't|did not)\s+(mention|say|state|specify|name|provide|contain|indicate)|"
    r"\bno (information|mention)\b|\bnot (mentioned|stated|specified)\b|"
    r"không (nói(?! chuyện)|đề cập|nêu|cho biết|có thông tin)|chưa (nói(?! chuyện)|đề cập|nêu)",
    re.IGNORECASE,
)


# A negated answer ("No, he did not ...", "... chưa liên lạc ...") to a yes-no question.
_NEGATION = re.compile(r"\b(không|chưa|chẳng|not|no|never|neither|nor)\b|n't\b", re.IGNORECASE)


def declines(text: str) -> bool:
    """The model says the evidence lacks the answer (in its own words rather than NOT FOUND)."""
    first = split_sentences(text)[:1]
    return bool(first) and bool(_DECLINE.search(first[0]))


# Words that frame a question about the articles rather than assert anything ("được nhắc đến
# trong các bài báo"), point back ("ông ấy") or mark a date ("hôm 20/10"): repeating them is not
# claiming the question's premise.
_FRAMING = frozenset(["bai", "bao", "nhac", "cap", "tin", "viet", "noi", "biet", "dua", "theo", "nguoi", "ay", "hom"])


def echoes_premise(sentence: str, asked: set[str], cited: list[Evidence], article: Callable[[str], str] | None = None) -> bool:
    """For a who-question, a Vietnamese answer that repeats a question word its cited lines lack
    asserts the premise ("Ai đề xuất ...?" -> "X đã đề xuất ..." when no line says đề xuất).
    `asked` is empty unless the question is a who-question (see check). English answers over
    Vietnamese lines cannot be compared word for word: for them only the acts of _EN_VERBS are
    checked (_echoes_verb), the rest is left to the other checks."""
    if not asked:
        return False
    if _echoes_verb(sentence, asked, cited, article):
        return True
    if not is_vietnamese(sentence):
        return False
    seen = set()
    for ev in cited:
        seen |= content_terms(_context(ev, article))
    return bool((asked & content_terms(sentence)) - seen - _FRAMING)


# English verbs a who-question asks about, with the Vietnamese (folded) a line that says so uses:
# "Who proposed Budapest?" answered "Moscow proposed Budapest" needs a line saying đề xuất (or
# đề nghị, ...), not one saying Moscow is ready to host the summit there. Only specific acts: "say"
# or "meet" are written too many ways to check.
_EN_VERBS = [
    (r"propos|suggest", ["de xuat", "de nghi", "goi y", "kien nghi", "de ra", "dua ra"]),
    (r"nominat|appoint", ["de cu", "bo nhiem", "chi dinh", "lua chon", "chon"]),
    (r"refus|declin|reject", ["tu choi", "bac bo", "khong chap nhan", "phan doi", "khuoc tu"]),
    (r"confirm", ["xac nhan", "khang dinh", "xac thuc", "thua nhan"]),
    (r"den(y|ied|ies)", ["phu nhan", "bac bo", "tu choi", "phu dinh"]),
    (r"announc", ["thong bao", "cong bo", "tuyen bo", "loan bao"]),
    (r"invit", ["moi"]),
    (r"found(ed|ing|s|er)\b", ["thanh lap", "sang lap", "lap ra", "khai sinh"]),
    (r"design", ["thiet ke"]),
    (r"invent", ["phat minh", "sang che", "che tao"]),
    (r"discover", ["phat hien", "kham pha", "tim ra"]),
]
_EN_VERB_FORMS = [(re.compile(rf"^({forms})"), said) for forms, said in _EN_VERBS]


def _echoes_verb(sentence: str, asked: set[str], cited: list[Evidence], article: Callable[[str], str] | None) -> bool:
    """An answer to an English who-question that repeats one of _EN_VERBS from it (in English, or
    in the Vietnamese the answer is first written in) over lines that never say it in Vietnamese:
    the small model fills "Who did X?" with any name near X."""
    acts = [(form, said) for form, said in _EN_VERB_FORMS if any(form.match(w) for w in asked)]
    if not acts:
        return False  # most questions: nothing to fold
    vietnamese = is_vietnamese(sentence)
    mine = _spaced_fold(MARKER.sub(" ", sentence))
    lines = _spaced_fold(" ".join(_context(ev, article) for ev in cited))
    for form, said in acts:
        repeats = any(f" {v} " in mine for v in said) if vietnamese else any(form.match(w) for w in content_terms(sentence))
        if repeats and not any(f" {v} " in lines for v in said):
            return True
    return False


def asked_acts(question: str) -> list[tuple[re.Pattern, list[str]]]:
    """The acts of _EN_VERBS a question asks about ("Who proposed ...?", "Ai đề xuất ...?", "What
    did Szijjarto propose?")."""
    if is_vietnamese(question):
        q = _spaced_fold(question)
        return [(form, said) for form, said in _EN_VERB_FORMS if any(f" {v} " in q for v in said)]
    asked = content_terms(question)
    return [(form, said) for form, said in _EN_VERB_FORMS if any(form.match(w) for w in asked)]


def states_act(said: list[str], text: str) -> bool:
    """Whether `text` says one of an act's Vietnamese forms."""
    folded = _spaced_fold(text)
    return any(f" {v} " in folded for v in said)


def _spaced_fold(text: str) -> str:
    """Folded words between spaces, for phrase lookups: " de xuat " in it."""
    return " " + fold(" ".join(words(text))) + " "


from rag.text import NUMBER_WORDS as _NUMBER_WORDS
from rag.text import amounts, counted_digits, times_of_day


def restates(text: str, question: str) -> bool:
    """`text` holds no content word that `question` does not: it only says the question back
    (`restates-question`). A number word before a unit counts as its digits ("Sáu lần" states a 6)."""
    return bool(question) and not content_terms(counted_digits(text)) - content_terms(counted_digits(question))


def numbers_supported(sentence: str, line: str) -> bool:
    """Every number in the sentence appears in the line, as digits or (1-10) as a word; a number
    word before a unit counts as its number ("bảy giờ" needs a seven in the line, not "năm giờ");
    and a number before a unit (rag.text.amounts) stands before the same unit in the line: "2
    ngày" is not held by "hai tuần", nor "$1 billion" by "một thỏa thuận" (session 35); and a
    time of day ("tối", "morning") is the line's too (rag.text.times_of_day, session 36)."""
    have = set(_NUM.findall(line))
    words_in_line = set(re.findall(r"\w+", nfc(line).lower()))
    plain = MARKER.sub(" ", sentence)
    for n in set(_NUM.findall(counted_digits(plain))) - have:
        if not (words_in_line & set(_NUMBER_WORDS.get(n.lstrip("0") or "0", ()))):
            return False
    # a time of day the sentence gives is the line's too
    if not times_of_day(plain) <= times_of_day(line):
        return False
    # and a number the sentence counts something with counts the same thing in the line
    return amounts(plain, words_for_one=False) <= amounts(line)


# Words that bound a number ("gần ba năm", "hơn 300 người"): changing one changes the fact.
_BOUND = ("gần", "hơn", "khoảng", "trên", "dưới", "ít nhất", "tối đa", "chưa đầy", "hàng", "vài")
_BOUND_NUM = re.compile(
    r"\b(" + "|".join(_BOUND) + r")\s+(\d[\d.,/-]*|" + "|".join(vi for vi, _ in _NUMBER_WORDS.values()) + r")\b", re.IGNORECASE
)


def bounds_supported(sentence: str, line: str) -> bool:
    """A bounded number in a Vietnamese sentence ("hơn ba năm") is bounded the same way in the
    line: a model that turns "gần ba năm" (nearly three years) into "hơn ba năm" (more than
    three years) states a different fact with the same words."""
    said = {(b.lower(), n.lower()) for b, n in _BOUND_NUM.findall(nfc(MARKER.sub(" ", sentence)))}
    # "khoảng 1.300 km" (about) for the line's "1.300 km" hedges the same figure; it states no other.
    # So does "khoảng 5 giờ" for "năm giờ": a number up to ten may be written either way.
    low = nfc(line).lower()

    def stated(n: str) -> bool:
        forms = {n} | set(_NUMBER_WORDS.get(n, ())) | {d for d, ws in _NUMBER_WORDS.items() if n in ws}
        return any(re.search(rf"(?<![\w.,]){re.escape(f)}(?![\w]|[.,]\d)", low) for f in forms)

    said = {(b, n) for b, n in said if b != "khoảng" or not stated(n)}
    if not said:
        return True
    have = {(b.lower(), n.lower()) for b, n in _BOUND_NUM.findall(nfc(line))}
    return said <= have


def figures_hold(sentence: str, ev: Evidence) -> bool:
    """The sentence's numbers, and how it bounds them, stand in the evidence line (or its date)."""
    return numbers_supported(sentence, ev.text + " " + ev.date) and bounds_supported(sentence, ev.text)


def mixed_script(sentence: str) -> bool:
    """A word that mixes Latin with Cyrillic or Greek letters ("Bудapest"): a small model's slip
    between tokenizers, never a name from a Vietnamese article."""
    for w in words(MARKER.sub(" ", sentence)):
        scripts = {unicodedata.name(c, "?").split(" ")[0] for c in w if c.isalpha()}
        if len(scripts & {"LATIN", "CYRILLIC", "GREEK"}) > 1:
            return True
    return False


MAX_SLIP = 3  # words: a longer difference is the model's own wording, not a slip while copying


def repair_copy(sentence: str, line: str, names: frozenset[str]) -> tuple[str, list[tuple[str, str]]]:
    """Restore the line's words where a Vietnamese sentence copied from it swapped a few.

    The 1.5B model copies a line but slips on a word or two: "Người lãnh đạo Nga" (the leader)
    for "Ngoại trưởng Nga" (the foreign minister), "hơn ba năm" (more than) for "gần ba năm"
    (nearly). When most of the sentence is the line word for word, a swap of up to MAX_SLIP words
    followed by at least three copied words is put back as the line has it. Only common words
    are swapped back: a name on either side is the model resolving "ông" to "Lavrov" (or the
    reverse), not a slip.
    Returns the sentence and the (model's, line's) pairs that were restored."""
    if not (is_vietnamese(sentence) and is_vietnamese(line)):
        return sentence, []
    sentence = nfc(sentence)
    spans = [m.span() for m in _TOKEN.finditer(sentence)]
    a, b = [sentence[i:j] for i, j in spans], _TOKEN.findall(nfc(line))
    ops = SequenceMatcher(None, [t.lower() for t in a], [t.lower() for t in b], autojunk=False).get_opcodes()
    n_words = sum(1 for t in a if t[0].isalnum())
    copied = sum(1 for tag, i1, i2, _, _ in ops if tag == "equal" for t in a[i1:i2] if t[0].isalnum())
    if not n_words or copied / n_words < 0.6:
        return sentence, []
    edits: list[tuple[int, int, str]] = []  # (start, end, text) in the sentence: its own spacing stays
    restored = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "replace":
            continue
        theirs, ours = a[i1:i2], b[j1:j2]
        breaks = [t for t, tok in enumerate(ours) if not tok[0].isalnum()]
        if breaks and i1 == 0:  # the copy starts inside a clause: "Kể từ đó, các quan chức" -> "các quan chức"
            ours = ours[breaks[-1] + 1 :]
        after = ops[k + 1] if k + 1 < len(ops) else None
        before = ops[k - 1] if k else None
        if not (
            1 <= len(theirs) <= MAX_SLIP
            and 1 <= len(ours) <= MAX_SLIP + 1
            and all(t[0].isalpha() for t in theirs + ours)
            and after is not None
            and after[0] == "equal"
            and after[2] - after[1] >= 3
            and (before is None or before[0] == "equal")
            and not any(fold(t) in names or (t[0].isupper() and (i1 or n)) for n, t in enumerate(theirs))
            and not any(fold(t) in names or t[0].isupper() for t in ours)
        ):
            continue
        line_words = " ".join(ours)
        put = line_words[:1].upper() + line_words[1:] if i1 == 0 else line_words
        edits.append((spans[i1][0], spans[i2 - 1][1], put))
        restored.append((sentence[spans[i1][0] : spans[i2 - 1][1]], line_words))
    for start, end, text in reversed(edits):
        sentence = sentence[:start] + text + sentence[end:]
    return sentence, restored


def restore_honorific(answer: str, question: str) -> str:
    """"Người Tillerson đặt chân tới Moscow ..." for "Ông Tillerson đặt chân tới Moscow vào ngày
    nào?": the question's "Ông"/"Bà" put back. The 1.5B model opens a third of its Vietnamese
    answers with "Người" (first token "Ng" p 0.40 against "Ô" 0.03 on that question), which before
    a name reads "the person Tillerson". Only when the word after "Người" is the word after the
    question's own "Ông"/"Bà" ("Người ấy" for "Ông ấy" too); anything else is left as written."""
    said = re.match(r"Người (\w+)", answer)
    asked = re.match(r"(Ông|Bà) (\w+)", question.strip())
    if said and asked and fold(said.group(1)) == fold(asked.group(2)):
        return asked.group(1) + answer[len("Người") :]
    return answer


def unknown_names(sentence: str, known: Callable[[str], bool]) -> list[str]:
    """Capitalised words of a Vietnamese sentence (after its first; acronyms aside) that occur
    nowhere in the corpus, as written. English sentences are skipped: their capitalised words are
    mostly translations, not names."""
    if not is_vietnamese(sentence):
        return []
    ws = words(MARKER.sub(" ", sentence))[1:]
    return list(dict.fromkeys(w for w in ws if len(w) > 1 and w[0].isupper() and not w.isupper() and not known(fold(w))))


@dataclass(frozen=True, slots=True)
class Rule:
    """One check an answer sentence (or the whole answer) must pass; documented in docs/verification.md."""

    name: str
    guards: str  # what goes wrong without it
    basis: str  # its threshold or word list, and the data it came from


# The verifier's rules, in the order they apply. The first two test the evidence-first copy before
# `check` sees it (Pipeline._read_first); the third to fifth, a copy or a composed answer
# (Pipeline._not_answered_by); the rest are `check`'s. `skip=` (Pipeline.ablate) leaves rules out,
# so `rag eval --ablate NAME` measures what each is worth. Each was measured on questions it was
# not written for (docs/verification.md); rules that earned nothing there were removed (0.3.10).
RULES = {
    r.name: r
    for r in (
        Rule(
            "copy-will",
            "a copy the model was forced into: it would not have written those words (answers to questions the lines do not answer)",
            "mean unconstrained probability of the copied tokens >= 0.65 (MIN_COPY_WILL); seeds, heldout, blind",
        ),
        Rule("fits-kind", "a copy that is not what was asked: no time for a when-question, no number for how many, no person for who, or more than 25 words for any of the three (a passage, not a time)", "regexes in rag/answer/reader.py fits(); seeds, heldout, blind; the 25 words (MAX_SHORT_COPY, 0.3.12) from the longest right copy of these kinds in the development and public reports, 20 words"),
        Rule(
            "act-not-stated",
            "a who- or what-question about an act (propose, confirm, invite, nominate, ...) answered from lines that never state it: the small model fills 'Who proposed X?' with whoever is near X",
            "the acts of _EN_VERBS and their Vietnamese forms (asked_acts, states_act); seeds s001/s002, the brief's own example; the answer says what the lines report instead (reason 'partial'); applied to a copy since 0.3.0, to a composed answer since 0.3.5",
        ),
        Rule(
            "question-not-in-line",
            "a Vietnamese answer resting on a line near the question but not about it: the model writes the question's words around a phrase of the nearest line ('Cấy tóc là công nghệ in 3D') when no line answers",
            "the lines hold < 0.4 of the question's content words (MIN_QUESTION_IN_LINE); set on public near-misses (ViNewsQA and MLQA with the answering line emptied, 60 questions each, seed 97) against the same questions answerable, confirmed on seed 211 and frozen-5 (docs/results.md, Session 24); the answer says what the lines report instead (reason 'partial'); since 0.3.7",
        ),
        Rule(
            "place-not-in-line",
            "an answer resting on a line that does not name the place the question is about ('Which city hosted the meeting in Alaska?' answered 'Budapest' from a line about the next summit)",
            "places: names the articles write after 'ở', 'tại', 'đến', 'từ', 'thủ đô', ... (pipeline._LOCATIVE) that at most half of the articles mention; written on development near-misses (seeds, heldout, blind), kept for frozen-6 (correct refusals .30 -> .40, nothing else moved) and 274 public questions (none changed); the answer says what the lines report instead (reason 'partial'); since 0.3.9; an English question's place adjective ('Alaskan', 'Hungarian') names its place since 0.3.18 (pipeline.place_adjectives, session 36)",
        ),
        Rule("asks-back", "an answer that asks a question back (the model copying the question, '?' and all)", "no threshold; the local model may not write '?' at all (decoding), so this guards an OpenAI-compatible server, where that ban does not apply"),
        Rule(
            "restates-question",
            "a sentence that only restates the question: it asserts nothing; for an English question also the English a copy is shown in ('Kearney Boulevard' for 'What kinds of trees is Kearney Boulevard lined with?'), which then says what the line reports instead (reason 'partial')",
            "content words (rag/text.py STOP), a number word before a unit counted as its digits; a negated reply to a yes-no question is kept; the English copy since 0.3.14 (not for a yes-no question since 0.3.15: its answer says its statement back), seen on public near-misses (XQuAD en->vi, seed 503) and measured on the frozen sets (docs/results.md, Session 31)",
        ),
        Rule("unknown-name", "a name the articles never write, or a name garbled across scripts", "keyword vocabulary of the index; mixed_script"),
        Rule(
            "unsupported",
            "a sentence no shown line supports",
            "shared content words >= 0.5 (min_lexical), or embedding cosine >= MIN_SUPPORT (EmbeddingGemma 0.45; 0.1 lower when the line holds its names or numbers), numbers held by the line, and a number before a unit before the same unit there (rag.text.amounts; since 0.3.17, session 35), and a time of day ('tối', 'morning') the line states too (rag.text.times_of_day; since 0.3.18, session 36); seeds gold set",
        ),
        Rule("echoes-premise", "a who-question answered from a line that only repeats the question's act and people", "content words; seeds, heldout"),
        Rule(
            "names-not-covered",
            "a sentence naming someone its supporting line (or that line's article) does not name: the wrong person; an English sentence naming a country, institution or office its lines' articles do not write ('at the United Nations')",
            "corpus names from the keyword index; seeds, blind; for English sentences the gazetteer's names and offices, as for a copy's translation (rag/gazetteer.py; since 0.3.17, session 35)",
        ),
        Rule("no-one-new", "a who-question answered with only the people the question already names", "corpus names; heldout"),
    )
}


def check(
    raw: str,
    evidence: list[Evidence],
    similarity: Similarity | None = None,
    min_lexical: float = 0.5,
    min_similarity: float = 0.55,
    names: frozenset[str] = frozenset(),
    question: str = "",
    known: Callable[[str], bool] | None = None,
    context: str = "",
    article: Callable[[str], str] | None = None,
    skip: frozenset[str] = frozenset(),
    kind: str | None = None,
) -> Checked:
    """Verify the model's answer against the shown evidence, rule by rule (RULES; `skip` leaves
    the named ones out, for measuring them). Each dropped sentence records the rule that dropped it.

    `names` are the corpus's proper names: a sentence naming one (say "Lavrov") is only
    supported by lines that name it too, which catches a small model's wrong-person answers.
    `article(file)` is a cited file's whole text: a question naming someone or somewhere is only
    answered from articles that mention them (without it, from lines that do). `context` is the
    turn before the question: for a follow-up (`follows_up`), its names are the question's.
    `kind` is what the question asks (rag/question.py, the one analysis of a question; computed
    from `question` when not given): a who-question's words are checked by `echoes-premise`, and
    a negated answer to a yes-no question is not a restatement of it.
    """
    stripped = raw.strip()
    if not stripped or fold(stripped).startswith(fold(NOT_FOUND)) or "NOT FOUND" in stripped.upper() or declines(stripped):
        return Checked("", [], said_not_found=True)
    if kind is None:
        kind = analyse(question).kind if question else ""
    who, yes_no = kind == "who", kind == "yes-no"
    asked = content_terms(question) if who else set()

    # What the question gives: a follow-up ("Ông ấy ...") takes the turn before too.
    given = f"{context} {question}" if context and follows_up(question, names) else question
    given_numbers = set(_FIGURE.findall(given))

    # What each cited article holds, read once per answer: claim, covered, called and about ask for
    # it for every sentence and every candidate line.
    @functools.cache
    def figures_of(file: str) -> frozenset[str]:
        return frozenset(_FIGURE.findall(article(file)))

    @functools.cache
    def words_of(file: str) -> frozenset[str]:
        return frozenset(fold(w) for w in words(article(file)))

    def claim(sentence: str, ev: Evidence) -> str:
        """The sentence less the numbers the question gives, where the line's article has them:
        "sau khi Thông tư số 03 được ban hành" restates the question, and the line that answers
        it may just say "thông tư vừa ban hành"."""
        if not given_numbers or article is None:
            return sentence
        held = figures_of(ev.file) & given_numbers
        return _FIGURE.sub(lambda m: " " if m.group(0) in held else m.group(0), sentence) if held else sentence

    def supports(sentence: str, ev: Evidence) -> bool:
        said = claim(sentence, ev)
        if lexical_support(said, ev) >= min_lexical:
            return True
        if similarity is None:
            return False
        # A cross-lingual sentence anchored to the line by its corpus names or its numbers ("5
        # hours": "năm giờ") is held to a lower similarity bar: short English vs a long Vietnamese line.
        mentioned = names_in(sentence, names)
        if not figures_hold(said, ev):
            return False
        anchored = (mentioned and names_covered(mentioned, [ev])) or _NUM.search(MARKER.sub(" ", said))
        bar = min_similarity - 0.1 if anchored else min_similarity
        return similarity(sentence, ev) >= bar

    premise = names_in(given, names)

    def covered(sentence: str, claimed: set[str], cited: list[Evidence]) -> bool:
        """names_covered, or: a line that holds what the sentence adds to the question vouches for
        the names the question itself gives, when its article mentions them and the line names
        nobody beyond them and its title ("ông Peskov mô tả cuộc gọi là ..." answers a question
        about Putin and Trump's call)."""
        if names_covered(claimed, cited, article, names):
            return True
        if article is None or not claimed & premise or not names_covered(claimed - premise, cited, article, names):
            return False
        return any(
            (news_support(sentence, given, ev) or 0.0) >= 0.5
            and all(names_in(part, names) <= premise | claimed | names_in(ev.title, names) | called(ev.file) for part in holding(sentence, ev))
            and claimed & premise <= words_of(ev.file)
            for ev in cited
        )

    def holding(sentence: str, ev: Evidence) -> list[str]:
        """The sentences of a line that hold some of what the answer adds to the question."""
        new = _pairs(sentence) - _pairs(given)
        parts = split_sentences(ev.text)
        return [part for part in parts if new & _pairs(part)] or parts

    @functools.cache
    def called(file: str) -> set[str]:
        """Names the article gives right after one of the question's: its "Người phát ngôn Điện
        Kremlin Dmitry Peskov" lets a line about "ông Peskov" answer a question about the Kremlin
        spokesman."""
        out: set[str] = set()
        for run in _name_runs(article(file)) if article is not None else []:
            folded = [fold(w) for w in words(run)]
            at = [i for i, w in enumerate(folded) if w in premise]
            if at:
                out |= {w for w in folded[at[0] + 1 :] if w in names}
        return out

    def completed(sentence: str, claimed: set[str], cited: list[Evidence]) -> list[Evidence]:
        """Cited lines that hold what the sentence adds, plus a shown line of the same article that
        gives the rest of their own names: "Người phát ngôn Điện Kremlin Dmitry Peskov mô tả cuộc gọi
        là 'một cuộc trao đổi rất quan trọng'" quotes a line naming Peskov, and "Điện Kremlin Dmitry
        Peskov" is written in full in another. Only runs of names that hold one of the cited lines'
        own names count: a line about Ushakov does not let another line's Peskov say what he said."""
        holders = [ev for ev in cited if (news_support(sentence, given, ev) or 0.0) >= 0.5]
        own = {n for ev in holders for n in names_in(ev.text, names)}
        if not own:
            return []
        files = {ev.file for ev in holders}
        for ev in usable:
            if ev in cited or ev.file not in files:
                continue
            runs = " ".join(run for run in _name_runs(ev.text) if own & {fold(w) for w in words(run)})
            if runs and covered(sentence, claimed, [*cited, replace(ev, text=runs, title="")]):
                return [*cited, ev]
        return []

    def someone_new(sentence: str) -> bool:
        """A run of names in the sentence whose last name is none of the question's names: the
        last name says who ("Ngoại trưởng Nga Sergey Lavrov" is Lavrov, whichever country the
        question names)."""
        for run in _name_runs(MARKER.sub(" ", sentence)):
            named = [w for w in (fold(w) for w in words(run)) if w in names and w not in STOP]
            if named and named[-1] not in premise:
                return True
        return False

    citations: list[Citation] = []
    key_to_number: dict[tuple[str, int, int], int] = {}
    kept: list[str] = []
    result = Checked("", citations)
    # Lines that give orders are still shown (and may be cited by number) but never support anything.
    result.injected = [ev.number for ev in evidence if looks_like_instruction(ev.text + " " + ev.title)]
    usable = [ev for ev in evidence if ev.number not in result.injected]

    def drop(sentence: str, rule: str) -> None:
        result.dropped.append(sentence)
        result.dropped_by.append(rule)

    # Rules on the sentence alone, in order (RULES): the first that fails drops it.
    sentence_rules = (
        ("asks-back", lambda body: body.endswith("?")),
        (  # it asserts nothing ("No, X did not Y" to a yes-no question does)
            "restates-question",
            lambda body: restates(body, question) and not (yes_no and _NEGATION.search(body)),
        ),
        ("unknown-name", lambda body: bool(known is not None and unknown_names(body, known)) or mixed_script(body)),
    )

    # Rules on the sentence and the lines that support it; `skip` turns each into a pass.
    def echoes(sentence: str, cited: list[Evidence]) -> bool:
        return "echoes-premise" not in skip and echoes_premise(sentence, asked, cited, article)

    def holds_names(sentence: str, claimed: set[str], cited: list[Evidence]) -> bool:
        return "names-not-covered" in skip or (covered(sentence, claimed, cited) and english_named(sentence, cited))

    def english_named(sentence: str, cited: list[Evidence]) -> bool:
        """An English sentence (the model wrote English where it was asked for Vietnamese, or was
        asked for English) names no country, institution or office that its lines' articles do
        not write in Vietnamese: the checks a translation of a copy passes (rag/gazetteer.py).
        "Putin and Trump last met ... at the United Nations" rested on a line that names neither
        the UN nor any meeting place (session 35)."""
        if is_vietnamese(sentence):
            return True
        sources = tuple(dict.fromkeys(article(ev.file) if article is not None else ev.text for ev in cited))
        allowed = frozenset().union(*(written_names(text) for text in sources))
        return gazetteer.names_kept("", sentence, allowed=allowed) and gazetteer.offices_kept(" ".join(sources), sentence)

    @functools.cache
    def written_names(text: str) -> frozenset[str]:
        return gazetteer.allowed_names(text, as_written=True)

    for sentence in split_sentences(stripped):
        cited: list[Evidence] = []
        for m in MARKER.finditer(sentence):
            found = _resolve(m.group(1), evidence)
            if found is None:
                continue
            if not found:
                result.invalid_markers.append(m.group(0))
            cited.extend(found)
        body = MARKER.sub("", _MARKER_LIST.sub(r"\1", sentence))
        body = re.sub(r"\s+([.,!?;:])", r"\1", " ".join(body.split())).strip()
        if len(content_terms(body)) == 0:
            continue  # a bare marker or filler: nothing to keep
        for ev in [ev for ev in cited if ev.number not in result.injected][:1]:
            body, restored = repair_copy(body, ev.text, names)
            result.repaired.extend(restored)
        failed = next((name for name, fails in sentence_rules if name not in skip and fails(body)), "")
        if failed:
            drop(body, failed)
            continue
        claimed = names_in(body, names)
        good = [ev for ev in dict.fromkeys(cited) if ev.number not in result.injected and ("unsupported" in skip or supports(body, ev))]
        why = ""
        if good and echoes(body, good):
            good, why = [], "echoes-premise"
        elif good and not holds_names(body, claimed, good):
            good = completed(body, claimed, good) if "names-not-covered" not in skip else good
            why = "" if good else "names-not-covered"
        if not good:
            # The model cited the wrong line (or none): keep the sentence only if a shown line supports it.
            candidates = [ev for ev in usable if holds_names(body, claimed, [ev]) and not echoes(body, [ev])]
            best = max(candidates, key=lambda ev: lexical_support(claim(body, ev), ev), default=None)
            if best is not None and ("unsupported" in skip or lexical_support(claim(body, best), best) >= max(min_lexical, 0.6)):
                good = [best]
            elif similarity is not None and candidates:
                scored = max(((similarity(body, ev), ev) for ev in candidates), key=lambda t: t[0])
                if scored[0] >= min_similarity + 0.1 and figures_hold(claim(body, scored[1]), scored[1]):
                    good = [scored[1]]
        if not good:
            drop(body, why or "unsupported")
            continue
        numbers = []
        for ev in good:
            key = (ev.file, ev.start_line, ev.end_line)
            if key not in key_to_number:
                key_to_number[key] = len(citations) + 1
                citations.append(Citation(ev.file, ev.start_line, ev.end_line, ev.text, key_to_number[key]))
            numbers.append(key_to_number[key])
        end = body[-1] if body[-1] in ".!?" else ""
        core = body[:-1] if end else body
        kept.append(core + "".join(f" [{n}]" for n in numbers) + (end or "."))
    # Every sentence is supported, and still the answer may not answer the question: a who-question
    # answered with only its own people ("Theo ông Lavrov, ai ...?" answered "Theo ông Lavrov, ông
    # Sergei Lavrov ...").
    if kept and "no-one-new" not in skip and who and not _COPULA.search(fold(question)) and not any(someone_new(k) for k in kept):
        for k in kept:
            drop(k, "no-one-new")
        result.citations.clear()
        kept = []
    result.text = " ".join(kept)
    return result


# "Who is X?", "Ông ấy là ai?", "Ai là ...?": asks what someone is, not who did something.
_COPULA = re.compile(r"\b(la ai|ai la|who (is|was|are|were))\b")
