"""Why an answer is what it is (`Answer.reason`, the `reason` of `rag ask --json`): answered, a
line quoted instead, a partial answer, or why it refused. One list, used by the engine, the chat
and measurement; the values are what JSON shows."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    ANSWERED = ""
    QUOTED = "quoted"  # the model's answer failed the check; the line closest to the question is quoted
    PARTIAL = "partial"  # no line states the act a who-question asks about; what the closest lines report
    WEAK_EVIDENCE = "weak-evidence"  # nothing retrieved is close enough to the question
    UNKNOWN_NAME = "unknown-name"  # the question names someone no article mentions
    MODEL_NOT_FOUND = "model-not-found"  # the model found no answer in the lines shown
    UNSUPPORTED = "unsupported"  # the model's answer failed the citation check
    UNSURE = "unsure"  # the evidence-first copy was one the model would not have written
    CANCELLED = "cancelled"
