"""Logits processors that constrain what the local model may write next (llama-cpp-python):
`CopyOnly` keeps a copy inside one line (the evidence-first reader, rag/answer/reader.py), `OneOf`
allows only a few tokens (a line's number, Yes or No) and records their probabilities."""

from __future__ import annotations


class CopyOnly:
    """A llama-cpp logits processor: after `start` tokens, only a continuation of a run of `line`
    tokens (starting at a word) or a stop token may come next."""

    def __init__(self, line: list[int], word_starts: set[int], stops: set[int], start: int):
        import numpy as np

        self.np = np
        self.line, self.starts, self.stops, self.start = line, word_starts, stops, start
        self.wanted: list[float] = []  # per copied token: the model's own probability of it

    def live(self, copied: list[int]) -> list[int]:
        """Positions in `line` where the copy so far could end."""
        k = len(copied)
        if k == 0:
            return []
        return [p for p in range(k - 1, len(self.line)) if self.line[p - k + 1 : p + 1] == copied and (p - k + 1) in self.starts]

    def allowed(self, copied: list[int]) -> set[int]:
        if not copied:
            return {self.line[i] for i in self.starts}
        nxt = {self.line[p + 1] for p in self.live(copied) if p + 1 < len(self.line)}
        return nxt | self.stops

    def __call__(self, input_ids, scores):
        ids = self.allowed([int(t) for t in input_ids[self.start :]])
        keep = self.np.fromiter(ids, dtype=self.np.int64)
        out = self.np.full_like(scores, -self.np.inf)
        out[keep] = scores[keep]
        # How much the model itself wanted the token it is made to copy (0..1, unconstrained softmax).
        best = int(keep[self.np.argmax(scores[keep])])
        if best not in self.stops:
            z = scores - scores.max()
            self.wanted.append(float(self.np.exp(z[best]) / self.np.exp(z).sum()))
        return out


class OneOf:
    """A logits processor that allows only the given tokens."""

    def __init__(self, tokens: set[int], force: int | None = None):
        import numpy as np

        self.np, self.keep = np, np.fromiter(tokens, dtype=np.int64)
        self.force = force  # write this token, but still record the model's probabilities over `tokens`
        self.probs: dict[int, float] = {}

    def __call__(self, input_ids, scores):
        out = self.np.full_like(scores, -self.np.inf)
        if self.force is not None:
            out[self.force] = scores[self.force]
        else:
            out[self.keep] = scores[self.keep]
        z = scores[self.keep] - scores[self.keep].max()
        p = self.np.exp(z) / self.np.exp(z).sum()
        self.probs = {int(t): float(q) for t, q in zip(self.keep, p)}  # softmax over the allowed tokens
        return out
