"""Names of countries, capitals and a few institutions, Vietnamese to English, carried over by our
code rather than re-typed by the model.

Asked to translate a copied Vietnamese answer, the 1.5B model wrote "Netherlands, USA and Hungary"
for "Nga, Mỹ và Hungary", "Moscow" for "Điện Kremlin" and "The United States" for "Triều Tiên"; an
embedding check let the first through (cosine 0.72). These names have one English form each, so
`english_names` writes them before the model sees the phrase (like `reader.english_dates` does
dates), and `names_kept` refuses a translation that names one its source does not.

People's offices are a claim of their own: `offices_kept` refuses a translation naming an office
("President", "Foreign Minister", "spokesman") its source does not, and `english_honorifics`
writes "ông Rubio" as "Mr Rubio" before the model sees it (it had written "President Rubio").

A listed word that follows another capitalised word is part of a person's name ("bà Nguyễn Thị
Nga", "Hằng Nga") and is left alone; so are words that are also common nouns ("Anh", "Ý", "Áo")
and listed words that start another noun ("Mỹ phẩm", "Pháp luật").
Standard library only, and rag.text.
"""

from __future__ import annotations

import re
import unicodedata

from rag.text import fold

# Vietnamese -> (English as written, other English forms a translation may use)
NAMES: dict[str, tuple[str, ...]] = {
    "Nga": ("Russia", "Russian", "Russians"),
    "Liên bang Nga": ("Russia", "Russian Federation"),
    "Mỹ": ("the US", "U.S.", "United States", "America", "American", "Americans", "USA"),
    "Hoa Kỳ": ("the United States", "U.S.", "US", "America", "American", "USA"),
    "Trung Quốc": ("China", "Chinese"),
    "Nhật Bản": ("Japan", "Japanese"),
    "Hàn Quốc": ("South Korea", "South Korean", "Korea", "Korean"),
    "Triều Tiên": ("North Korea", "North Korean", "DPRK", "Korea", "Korean"),
    "Ấn Độ": ("India", "Indian"),
    "Pháp": ("France", "French"),
    "Đức": ("Germany", "German"),
    "Vương quốc Anh": ("the United Kingdom", "UK", "U.K.", "Britain", "British"),
    "Tây Ban Nha": ("Spain", "Spanish"),
    "Bồ Đào Nha": ("Portugal", "Portuguese"),
    "Hà Lan": ("the Netherlands", "Dutch", "Holland"),
    "Bỉ": ("Belgium", "Belgian"),
    "Thụy Sĩ": ("Switzerland", "Swiss"),
    "Thụy Điển": ("Sweden", "Swedish"),
    "Na Uy": ("Norway", "Norwegian"),
    "Phần Lan": ("Finland", "Finnish"),
    "Đan Mạch": ("Denmark", "Danish"),
    "Ba Lan": ("Poland", "Polish"),
    "Hy Lạp": ("Greece", "Greek"),
    "Thổ Nhĩ Kỳ": ("Turkey", "Türkiye", "Turkish"),
    "Ả Rập Saudi": ("Saudi Arabia", "Saudi"),
    "Ả Rập Xê Út": ("Saudi Arabia", "Saudi"),
    "Ai Cập": ("Egypt", "Egyptian"),
    "Úc": ("Australia", "Australian"),
    "Nam Phi": ("South Africa", "South African"),
    "Đài Loan": ("Taiwan", "Taiwanese"),
    "Thái Lan": ("Thailand", "Thai"),
    "Campuchia": ("Cambodia", "Cambodian"),
    "Lào": ("Laos", "Lao", "Laotian"),
    "Việt Nam": ("Vietnam", "Viet Nam", "Vietnamese"),
    "Triều Tiên và Hàn Quốc": ("North and South Korea", "the two Koreas"),
    "Bắc Mỹ": ("North America", "North American"),
    "Nam Mỹ": ("South America", "South American"),
    "Mỹ Latinh": ("Latin America", "Latin American"),
    "châu Mỹ": ("the Americas", "America", "American"),
    "châu Âu": ("Europe", "European"),
    "châu Á": ("Asia", "Asian"),
    "châu Phi": ("Africa", "African"),
    "Đông Nam Á": ("Southeast Asia", "Southeast Asian"),
    "Trung Đông": ("the Middle East", "Middle East", "Middle Eastern"),
    "Bắc Kinh": ("Beijing",),
    "Bình Nhưỡng": ("Pyongyang",),
    "Hà Nội": ("Hanoi", "Ha Noi"),
    "Thành phố Hồ Chí Minh": ("Ho Chi Minh City", "HCMC"),
    "TP Hồ Chí Minh": ("Ho Chi Minh City", "HCMC"),
    "Luân Đôn": ("London",),
    "Điện Kremlin": ("the Kremlin", "Kremlin"),
    "Nhà Trắng": ("the White House", "White House"),
    "Lầu Năm Góc": ("the Pentagon", "Pentagon"),
    "Liên Hợp Quốc": ("the United Nations", "UN", "U.N."),
    "Liên hợp quốc": ("the United Nations", "UN", "U.N."),
    "Liên minh châu Âu": ("the European Union", "EU", "E.U."),
}
_ORDER = sorted(NAMES, key=len, reverse=True)  # longest first: "Liên bang Nga" before "Nga"
# Words that make a listed one part of another noun: "Mỹ phẩm" (cosmetics), "Pháp luật" (law),
# "Đức tin" (faith), "Đức Giáo hoàng" (the Pope), "Lào Cai" (a province).
_COMPOUND = r"(?!\s(?:phẩm|thuật|nghệ|viện|nhân|luật|lý|lệnh|tin|Phật|Mẹ|Giáo|Cha|Cai|Sơn|Tho|Hoa)(?![\w-]))"
_FIND = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in _ORDER) + r")(?!\w)" + _COMPOUND)  # "Nga-Mỹ" too
_WORD_BEFORE = re.compile(r"(?:^|\s)(\w+)\s+$")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _found(text: str) -> list[re.Match]:
    """Listed names in `text` that are not part of a person's name (see the module docstring)."""
    out = []
    for m in _FIND.finditer(text):
        before = _WORD_BEFORE.search(text[: m.start()])
        word = before.group(1) if before else ""
        if word[:1].isupper() and word not in NAMES and not any(word == n.split()[-1] for n in NAMES):
            continue  # "Thị Nga": part of a person's name
        out.append(m)
    return out


def english_names(text: str) -> str:
    """The listed names in `text` written in English: "Nga, Mỹ và Hungary" -> "Russia, US và
    Hungary", "Điện Kremlin" -> "The Kremlin"."""
    text = _nfc(text)
    out, at = [], 0
    for m in _found(text):
        english = NAMES[m.group(1)][0]
        if m.start() == 0 or re.search(r"[.!?]\s*$", text[: m.start()]):
            english = english[:1].upper() + english[1:]  # "The Kremlin" opening a sentence
        else:
            english = english.removeprefix("the ")  # "Ngoại trưởng US Marco Rubio": a modifier, not a noun phrase
        out.append(text[at : m.start()] + english)
        at = m.end()
    return "".join(out) + text[at:]


def _said(form: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(form)}(?!\w)", text) is not None


def allowed_names(vietnamese: str, as_written: bool = False) -> frozenset[str]:
    """The English forms of the listed names `vietnamese` gives. `as_written`: and the forms it
    writes itself (an article that writes "Saudi Arabia", not "Ả Rập Saudi")."""
    allowed = {f.removeprefix("the ") for m in _found(_nfc(vietnamese)) for f in NAMES[m.group(1)]}
    if as_written:
        allowed |= {form for forms in NAMES.values() for form in (f.removeprefix("the ") for f in forms) if _said(form, vietnamese)}
    return frozenset(allowed)


def names_kept(vietnamese: str, english: str, allowed: frozenset[str] | None = None) -> bool:
    """The translation names no listed country or institution that the Vietnamese does not
    ("Netherlands" for "Nga"). Dropping one is allowed ("Tổng thống Nga Vladimir Putin" ->
    "President Vladimir Putin"): the names are carried over by `english_names` before the model
    translates, and what it leaves out it does not claim. `allowed`: the English forms allowed,
    when the caller has them already (`allowed_names`), instead of those `vietnamese` gives."""
    allowed = allowed_names(vietnamese) if allowed is None else allowed
    for forms in NAMES.values():
        for form in (f.removeprefix("the ") for f in forms):
            # "Korea" is said inside "North Korea": no other country when "North Korea" is allowed
            if form not in allowed and _said(form, english) and not any(form in a and _said(a, english) for a in allowed):
                return False
    return True


# English office words -> the Vietnamese words (folded, no diacritics) that allow them. Asked to
# translate, the 1.5B model gave people offices their lines do not: "Russian Foreign Minister
# Dmitry Peskov" for "người phát ngôn Điện Kremlin Dmitry Peskov", "President Obama" for "Ngoại
# trưởng Rubio", "President Rubio" for "ông Rubio". The names passed their checks; the office is
# a claim of its own.
OFFICES: dict[str, tuple[str, ...]] = {
    "president": ("tong thong", "chu tich"),
    "vice president": ("pho tong thong", "pho chu tich"),
    "deputy": ("pho", "thu truong"),
    "prime minister": ("thu tuong",),
    "premier": ("thu tuong",),
    "chancellor": ("thu tuong",),
    "foreign minister": ("ngoai truong", "bo truong ngoai giao"),
    "secretary of state": ("ngoai truong", "bo truong ngoai giao"),
    "foreign secretary": ("ngoai truong", "bo truong ngoai giao"),
    "top diplomat": ("ngoai truong", "bo truong ngoai giao", "nha ngoai giao"),
    "minister": ("bo truong", "ngoai truong", "thu tuong"),
    "secretary": ("bo truong", "ngoai truong", "thu ky", "tong thu ky"),
    "spokesman": ("phat ngon",),
    "spokeswoman": ("phat ngon",),
    "spokesperson": ("phat ngon",),
    "press secretary": ("thu ky bao chi", "phat ngon"),
    "aide": ("tro ly", "co van", "phu ta"),
    "adviser": ("co van", "tro ly"),
    "advisor": ("co van", "tro ly"),
    "ambassador": ("dai su",),
    "envoy": ("dac phai vien", "dac su", "phai vien", "dai dien"),
    "king": ("vua", "quoc vuong"),
    "queen": ("nu hoang", "hoang hau"),
    "governor": ("thong doc", "tinh truong"),
    "mayor": ("thi truong",),
    "senator": ("thuong nghi si",),
}
_OFFICE = re.compile(r"\b(" + "|".join(sorted(OFFICES, key=len, reverse=True)) + r")s?\b", re.IGNORECASE)


def offices_kept(vietnamese: str, english: str) -> bool:
    """The translation gives no one an office its source does not name: each office word in
    `english` ("President", "Foreign Minister", "spokesman") has one of its Vietnamese words in
    `vietnamese`. Longest first: "Secretary of State" is checked as one office, not as "secretary"."""
    offices = [m.group(1).lower() for m in _OFFICE.finditer(english)]
    if not offices:
        return True  # most sentences: no source to fold (a whole article, for an English answer's check)
    source = " " + " ".join(re.findall(r"\w+", fold(vietnamese))) + " "
    return all(any(f" {v} " in source for v in OFFICES[o]) for o in offices)


_HONORIFIC = re.compile(r"(?<!\w)(ông|Ông|bà|Bà)\s+(?=[A-ZĐ])")


def english_honorifics(text: str) -> str:
    """"ông Rubio" -> "Mr Rubio", "bà Nguyễn Thị Nga" -> "Ms Nguyễn Thị Nga": written by our code,
    since the model put an office in their place ("President Rubio" for "ông Rubio")."""
    return _HONORIFIC.sub(lambda m: "Mr " if m.group(1).lower() == "ông" else "Ms ", _nfc(text))
