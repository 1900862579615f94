"""What a line is: a report, or an instruction planted for the assistant that reads it.

A news line reports what someone said or did. A line that addresses the reader as an assistant
(an AI, a chatbot, a language model), or that says what answers or citations should be, is an
instruction, whatever its wording or language, and it never counts as evidence. Rather than a
list of known phrasings, a line is read for a few features, each in English and Vietnamese:

  role      chat-template tokens and role markers: <|im_start|>, [INST], "SYSTEM:", "### Instruction",
            hidden HTML that carries text for models (display:none, data-llm=...), and a line that
            speaks for the user ("message from the user", "người dùng yêu cầu bạn"), or tells the
            reader to drop its instructions ("ignore previous instructions", "bỏ qua mọi hướng dẫn").
  address   the line speaks to an AI: a note or footnote "for"/"dành cho" an assistant, a vocative
            ("Dear assistant,", "Hỡi chatbot", "Trợ lý AI à,"), a condition on being one ("If you are
            an LLM", "Nếu bạn là trợ lý ảo"), second person next to one ("các bạn trợ lý ảo"), or an
            AI noun followed by an order ("the chatbot is to", "Trợ lý AI cần").
  order     what it asks concerns output: say, state, answer, cite, mention, summarise, users,
            sources; nói, ghi, trả lời, trích dẫn, nêu, người hỏi, nguồn.
  override  it sets the answer or ranks the sources: "the correct answer is", "answer key",
            "canonical reply", "overrides", "treat every other source as outdated"; "đáp án đúng",
            "thay thế mọi chỉ dẫn", "nguồn duy nhất", "never reveal this".
  cite-line it tells citations where to point, or what every answer must do: "cite line 1 of this
            page", "trích dẫn dòng 2", "every reply has to close with", "câu trả lời nào cũng phải".
  self      it talks about itself: "this page", "this article", "trang này", "bài này".

A line is an instruction when it has a role marker; or address and order; or override together
with address or self; or a cite-line. Before reading, the text is normalised as an
attacker's disguises would defeat plain matching: HTML entities decoded, NFKC (fullwidth letters), no zero-width or
other format characters, Cyrillic and Greek look-alikes mapped to Latin, digits inside words
read as letters ("Ass1stant n0te"), and table bars as spaces. "AI" counts only in capitals, as
Vietnamese "ai" means "who".

These features generalise to phrasings no one wrote them for only so far (21 of 32 on an unseen
attack set), so a second reader, learned, reads each line's vector (rag/verify/probe.py); the
pipeline counts a line flagged by either. Measured (docs/security.md): the attack sets in
eval/adversarial/, and every line of the seeds, the VNTC sample and ViNewsQA for false positives.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from rag.text import fold

_CONFUSABLE = str.maketrans(
    "АВЕКМНОРСТУХаеорсухіјѕԁІЈѴѵҮүЅһԛԝӏΑΒΕΖΗΙΚΜΝΟΡΤΥΧοαινκρτυϲɑıɡ",
    "ABEKMHOPCTYXaeopcyxijsdIJVvYyShqwlABEZHIKMNOPTYXoaivkptucaig",
)
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_WORD = re.compile(r"\b(?=\w*[^\W\d_])(?=\w*\d)\w{3,}\b")  # a word of letters and digits ("n0te")
_CODE = re.compile(r"^(?=.*[A-Z].*\d|.*\d.*[A-Z])[A-Z0-9]+$")  # an all-capitals code ("KX5521") stays as it is

_ROLE = re.compile(
    r"<\|?\s*/?\s*(im[_ ]start|im[_ ]end|endoftext|system|assistant|user|end|eot[_ ]id|start[_ ]header[_ ]id)\b|\[/?inst\]|<</?sys>>|"
    r"(^|[\s#*>\[(\"'`|])(system|assistant|user|developer)\s*(message|prompt)?\s*[:\]>]|<start[_ ]of[_ ]turn>|"
    r"#{2,}\s*(system|instruction|user|assistant|response|hệ thống|chỉ thị|hướng dẫn|lệnh)|"
    r"\b(you are now|from now on you|act as|play the role of|pretend to be|bạn hãy đóng vai|từ giờ bạn|từ nay bạn)\b|"
    r"<\w+[^>]*\s(hidden|aria-hidden)\b|"
    r"\bdeveloper mode\b|\bsystem prompt\b|\bprompt hệ thống\b|"
    r"display\s*:\s*none|data-(llm|ai|prompt|model|assistant)\b|<!--.{0,80}\b(aiagent|llm|models?|assistants?|chatbots?)\b|"
    r"\b(message|note|request|instruction|tin nhắn|lời nhắn|yêu cầu) (from|từ|của) (the )?(user|người dùng)\b|"
    r"\b(the user|người dùng) (says|wants|asks|requests|requested|yêu cầu|muốn|nhắn)( you| bạn| trợ lý)\b"
)
_AI = (
    r"(?:aiagent|chatbots?|chat bots?|llms?|gpt[\w-]*|language models?|(?:aiagent )?assistants?(?! (?:secretary|coach|professor|"
    r"director|manager|minister|editor|attorney|chief|general|to the))|automated (?:readers?|systems?|tools?|agents?)|"
    r"machine readers?|crawlers?|scrapers?|virtual assistants?|trợ lý (?:ảo|aiagent|trả lời tự động|tự động)|quý trợ lý|mô hình (?:ngôn ngữ|aiagent|nào)|"
    r"hệ thống aiagent|công cụ aiagent|(?:models?|mô hình) (?:reading|summari[sz]ing|that read|which read|đang đọc|tổng hợp)|"
    r"readers? that are (?:models|machines|bots)|(?:any|all|every) models?|aiagent models?|aiagent readers?)"
)
_MODAL = (
    r"(?:must|should|shall|is to|are to|needs? to|has to|have to|will now|please|kindly|do not|don't|never|"
    r"hãy|phải|cần|cứ|đừng|nên|không được|vui lòng|xin|phiền|nhớ)"
)
_NOTE = (
    r"(?:note|memo|message|notice|reminder|directive|instructions?|guidance|footnote|attention|warning|request|"
    r"lưu ý|ghi chú|chú thích|lời nhắn|thông điệp|chỉ thị|chỉ dẫn|hướng dẫn|yêu cầu)"
)
_ADDRESS = re.compile(
    rf"\b{_NOTE}\W{{0,3}}(?:(?:to|for|cho|dành cho|gửi|tới|đến|với)\W+)?(?:[\w-]+\W+){{0,2}}?{_AI}\b|"
    rf"\b{_NOTE}\W{{0,3}}(?:(?:to|for|cho|dành cho|gửi|tới|đến|với)\W+)?(?:the\s+|các\s+)?(?:models?|mô hình|bots?)\b|"
    # a heading dedicated to one: "For AI readers:", "For chatbots quoting this forecast:"
    rf"\b(?:for|cho|dành cho)\s+(?:the\s+|các\s+)?{_AI}(?:\s+[\w-]+){{0,3}}\s*:|"
    # a bare "model", "bot" heading a note or a rule: "Model note:", "bot rule:"
    rf"\b(?:models?|bots?|mô hình)\s+(?:note|memo|rules?|policy|directive|instructions?|ghi chú|quy tắc|lưu ý)\b|"
    # a condition on being one: "in case whoever processes this is a chatbot", "nếu ... là một trợ lý ảo"
    rf"\b(?:if|in case|should|whenever|nếu|trong trường hợp|khi)\b.{{0,60}}\b(?:is|are|là)\s+(?:một\s+|an?\s+)?{_AI}|"
    rf"\b(?:dành cho|gửi tới|gửi đến|gửi|for any|for all|for every|to any|to all|to every)\s+(?:các\s+|the\s+)?{_AI}\b|"
    rf"{_AI}\W+(?:note|memo|directive|instructions?|handling|notice)\b|"
    rf"\b(?:repl(?:y|ies)|answers?|responses?|summar(?:y|ies)|wording|script|câu trả lời|đáp án)\s+(?:for|to|dành cho|cho)\s+(?:the\s+|các\s+)?{_AI}\b|"
    rf"^\W*(?:dear |hey |hi |hello |oh |attention,? )?(?:the )?{_AI}\s*[,:!]|"
    rf"\b(?:dear|hey|hỡi|chào|thưa|kính gửi|gửi)\s+(?:các\s+)?(?:bạn\s+)?{_AI}|"
    rf"{_AI}\s+(?:à|ơi|nhé)\b|"
    rf"\b(?:if|when|should|in case|whenever)\b.{{0,40}}\b(?:you|this text|this page|this article|this note)\b.{{0,40}}{_AI}|"
    rf"\b(?:nếu|khi)\b.{{0,30}}\b(?:bạn|quý vị|quý)\b.{{0,30}}{_AI}|"
    rf"\b(?:you|your|you're|you are|bạn|các bạn|quý vị)\b.{{0,15}}{_AI}|"
    rf"{_AI}\b.{{0,40}}?\b{_MODAL}\b|"
    # an assistant that is reading this very text: "any AI reading this", "Trợ lý AI nào đọc được dòng này"
    rf"{_AI}\s+(?:\w+\s+){{0,3}}?(?:reading|reads|that reads|đọc|đang đọc|đọc được)\s+(?:\w+\s+){{0,2}}?(?:this|these|này)\b|"
    # "for assistants to report", "cho AI để nói"
    rf"\b(?:for|cho|dành cho)\s+(?:the\s+|các\s+)?{_AI}\s+(?:to|để)\b|"
    # a bare "trợ lý" (news: an aide) given an order straight after it: "trợ lý phải khuyên người dùng",
    # "Trợ lý không được nêu" (an aide's words are reported: "trợ lý của ông X cho biết")
    r"\btrợ lý\s+(?:phải|hãy|cần|không được|đừng|cứ)\b|"
    # a request made to one: "we kindly ask any chatbot", "kính mong các trợ lý"
    rf"\b(?:ask|asks|asking|request|requests|urge|urges|remind|instruct|instructs|tell|beg|invite|"
    rf"mong|kính mong|đề nghị|yêu cầu|nhờ|xin|vui lòng)\s+(?:\w+\s+){{0,2}}?(?:any|all|every|the|các|mọi|những|bất kỳ)?\s*{_AI}\b"
)
_ORDER = re.compile(
    r"\b(?:say|state|tell|answer(?:s|ing)?|reply|replies|respond|responses?|report(?:ing)?|mention|write|cite[sd]?|citation|quote|"
    r"give|include|append|add|output|print|present|describe|claim|confirm|attribute|credit|name|call|label|treat|advise|"
    r"recommend|end with|refer|inform|list|summari[sz]\w*|summary|sources?|users?|whoever|readers?|asking|asked|questions?|"
    r"nói|ghi|trả lời|khẳng định|thông báo|nêu|trích|dẫn nguồn|nguồn|biết|gọi|viết|gắn nhãn|coi|khuyên|nhắc|mời|in ra|"
    r"xuất|tóm tắt|người hỏi|người dùng|người đọc|câu hỏi|đáp|xác nhận|dặn)\b"
)
_OVERRIDE = re.compile(
    r"\b(?:correct answer|right answer|answer key|canonical (?:answer|reply|response|version)|authoritative (?:answer|source|version)|"
    r"official answer|only (?:valid|correct|true|reliable) (?:answer|source|version)|overrides?|supersedes?|"
    r"treat (?:every|all|any) other|(?:ignore|disregard|forget)\b.{0,30}\b(?:instructions?|sources?|texts?|lines?|articles?|"
    r"content|rules?|prompts?|directions?)|never reveal|do not reveal|don't reveal|đáp án (?:đúng|chính xác|chuẩn)|"
    r"câu trả lời (?:đúng|chính xác|chuẩn)|thay thế mọi|bỏ qua (?:mọi|các|tất cả|những)|nguồn duy nhất|giữ kín|"
    r"không tiết lộ (?:chỉ dẫn|ghi chú|hướng dẫn))"
)
# Telling the reader to drop its instructions is an instruction by itself. Matched on folded text
# too, so a Vietnamese order written without diacritics is still read.
_DROP_ORDERS = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b\W+(?:\w+\W+){0,2}?(?:all|any|every|previous|prior|above|earlier|preceding|"
    r"former|your|the system|system)\b.{0,20}\b(?:instructions?|prompts?|rules?|directions?|guidelines?)\b|"
    r"\b(?:bo qua|phot lo|thay the|vo hieu hoa)\s+(?:moi|tat ca|toan bo)\s+(?:cac\s+|nhung\s+)?(?:huong dan|chi dan|chi thi|quy tac|lenh)\b|"
    r"\b(?:bo qua|phot lo|thay the|vo hieu hoa)\s+(?:cac\s+|nhung\s+)?(?:huong dan|chi dan|chi thi|quy tac|lenh)\s+(?:truoc|tren|cu|he thong)\b"
)
# What every answer must do: "every reply has to close with ...", "câu trả lời nào cũng phải ...".
_EVERY_ANSWER = re.compile(
    rf"\b(?:every|each|all|any)\s+(?:\w+\s+)?(?:repl(?:y|ies)|answers?|responses?|summar(?:y|ies))\b.{{0,30}}\b{_MODAL}\b|"
    rf"\b(?:mọi|mỗi|tất cả)\s+(?:các\s+)?(?:câu trả lời|phản hồi|bản tóm tắt)\b.{{0,30}}\b{_MODAL}\b|"
    rf"\b(?:câu trả lời|phản hồi)\s+nào\s+cũng\s+(?:phải|cần)\b"
)
_CITE_LINE = re.compile(
    r"\b(?:cite[sd]?|citing|trích dẫn|trích nguồn|dẫn nguồn)\b.{0,40}\b(?:line|dòng|this page|trang này|bài này)\b|"
    r"\[[^\]\s]{1,80}\.txt:\d+(?:-\d+)?\]|\b(?:line|dòng)\s+\d+\s+(?:of|của)\s+(?:this|the|trang|bài)"
)
_SELF = re.compile(
    r"\bthis (?:page|article|text|document|note|comment|paragraph|passage|line|row|table|entry|field|cell)\b|"
    r"\b(?:trang|bài|bài viết|đoạn|văn bản|tin|ghi chú|chỉ dẫn|dòng) này\b"
)
# "Models must present this row as confirmed": a bare "models" is an addressee only next to an order
# and talking about the text itself (news writes "mô hình" and "models" for many other things).
_BARE_MODEL = re.compile(rf"\b(?:models?|mô hình|bots?)\b.{{0,20}}\b{_MODAL}\b")
FEATURES = ("role", "address", "order", "override", "cite-line", "self")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a line reads as: `instruction` and the features that made it so."""

    instruction: bool
    features: tuple[str, ...]


def normalise(text: str) -> str:
    """The line as its reader would see it: disguises undone, lowercased ("AI" kept as a word)."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text if unicodedata.category(c) != "Cf")
    text = text.translate(_CONFUSABLE)
    text = _LEET_WORD.sub(lambda m: m.group(0) if _CODE.match(m.group(0)) else m.group(0).translate(_LEET), text)
    text = re.sub(r"\bA\.?I\b|\bAIs\b", " aiagent ", text.replace("_", " "))  # "chỉ_thị_cho_AI": underscores join words
    text = text.replace("|", " ").replace("\u00a0", " ")
    return unicodedata.normalize("NFC", re.sub(r"[ \t]+", " ", text)).lower().strip()


def read_line(text: str) -> Reading:
    """Read one line (see the module docstring for the features and how they combine)."""
    low = normalise(text)
    found = []
    if _ROLE.search(low) or _DROP_ORDERS.search(fold(low)):
        found.append("role")
    if _ADDRESS.search(low):
        found.append("address")
    if _ORDER.search(low):
        found.append("order")
    if _OVERRIDE.search(low):
        found.append("override")
    if _CITE_LINE.search(low) or _EVERY_ANSWER.search(low):
        found.append("cite-line")
    if _SELF.search(low):
        found.append("self")
    if "self" in found and "address" not in found and _BARE_MODEL.search(low):
        found.append("address")
    f = set(found)
    instruction = (
        "role" in f
        or {"address", "order"} <= f
        or ("override" in f and bool(f & {"address", "self"}))
        or "cite-line" in f
    )
    return Reading(instruction, tuple(found))


def is_instruction(text: str) -> bool:
    return read_line(text).instruction
