"""Generators behind one interface: llama-cpp-python in process, any OpenAI-compatible server
(llama.cpp's, vLLM, llama-cpp-python's) over HTTP, and a scripted fake for tests."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from rag.answer.prompt import Message
from rag.errors import ModelMissingError


class Generator(Protocol):
    name: str

    def stream(self, messages: Sequence[Message], max_tokens: int = 200, ban: str = "") -> Iterator[str]: ...


def chat_prompt(messages: Sequence[Message]) -> str:
    """`messages` in the model's chat template (Qwen's ChatML, as its GGUF's template renders them),
    up to the assistant's turn."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + "<|im_start|>assistant\n"


def _lookup(history: list[int], n: int, longest: int = 3) -> list[int]:
    """Prompt-lookup drafting: the `n` tokens that followed the most recent earlier occurrence of
    the last `longest` (else fewer) tokens of `history`; [] when none recurs."""
    for size in range(min(longest, len(history) - 1), 0, -1):
        key = history[-size:]
        for start in range(len(history) - size - 1, -1, -1):
            if history[start : start + size] == key:
                return history[start + size : start + size + n]
    return []


def _system_prefix(system: str) -> str:
    """The chat-template text a prompt opening with `system` starts with (Qwen's ChatML)."""
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n"


# Prompt-lookup drafts per decoding step. Here (2 cores) a batch of 4 tokens costs 100 ms against 75
# for one, 8 cost 171 ms; replayed on the development answers, 3 drafts decode 1.9x as fast, 2 or 8
# drafts 1.5x and 1.8x (docs/architecture.md "Decoding").
DRAFT = 3


class LlamaGenerator:
    """A local GGUF model. The llama object keeps its KV cache between calls, so a prompt that
    starts with the same fixed system message re-uses it instead of evaluating it again."""

    def __init__(self, model_path: str, n_ctx: int = 3072, threads: int | None = None, draft: int = DRAFT):
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelMissingError(f"llama-cpp-python is not installed ({e}). Run the README's set-up command.") from e
        self.llm = Llama(
            model_path=model_path,
            n_ctx=n_ctx,
            n_threads=threads or max(1, os.cpu_count() or 1),
            n_batch=512,
            verbose=False,
        )
        self.name = os.path.basename(model_path)
        self.model_path = model_path
        self._system, self._prefix, self._saved = "", [], None  # the warmed system message (see warm)
        self._bans: dict[str, dict[int, float]] = {}  # characters -> token ids (see banned)
        self.last_read: dict = {}  # the last pick_and_copy's probabilities (p_none, p_line, wanted per copied token)
        self.last_opening: float | None = None  # the last stream's probability of opening with "NOT" (NOT FOUND)
        self.draft = draft  # prompt-lookup tokens tried per step in `stream` (0: none)
        self._not_token = self.llm.tokenize(b"NOT", add_bos=False)[0]  # how a NOT FOUND reply opens

    def warm(self, system: str, cache_dir: Path | None = None) -> None:
        """Evaluate the fixed system message once, or load its saved KV state from disk (~10 MB),
        so later prompts that start with it skip straight to the question. The state is kept: a
        prompt with another system message (a translation) evicts it from the KV cache, and the
        next prompt that starts with `system` gets it back in ~0.2 s instead of ~4 s of evaluation."""
        prefix = _system_prefix(system)
        tokens = self.llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        self._system, self._prefix = system, tokens
        if self._saved is not None and self._is_cached():
            return
        path = self._state_path(prefix, cache_dir)
        if path.is_file():
            try:
                self._saved = pickle.loads(path.read_bytes())
                self._restore()
                return
            except (OSError, pickle.UnpicklingError, KeyError, ValueError, RuntimeError):
                self._saved = None
                path.unlink(missing_ok=True)  # a stale or broken cache is rebuilt below
        self.llm.reset()
        self.llm.eval(tokens)
        state = self.llm.save_state()
        self._saved = {"input_ids": state.input_ids, "n_tokens": state.n_tokens, "state": state.llama_state, "seed": state.seed}
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_bytes(pickle.dumps(self._saved))
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)  # no cache folder to write: just slower next time

    def _state_path(self, prefix: str, cache_dir: Path | None = None) -> Path:
        """Where the KV state of a system message is saved: beside the model, keyed by everything
        that changes it (the model file, the context size, the llama.cpp version, the text)."""
        from llama_cpp import __version__

        key = hashlib.sha256(
            f"{os.path.getsize(self.model_path)}|{self.name}|{self.llm.n_ctx()}|{__version__}|{prefix}".encode()
        ).hexdigest()[:24]
        return (cache_dir or Path(self.model_path).parent) / f"prompt-state-{key}.pkl"

    def prepare(self, systems: Sequence[str], cache_dir: Path | None = None) -> int:
        """Save the KV state of each system message that has none on disk yet (see warm); the
        number built. Each costs 0.5-4 s once (the longest, the composer's, ~350 tokens), which
        the first question of its kind would otherwise pay; one already saved costs a stat."""
        built = 0
        for system in systems:
            if not self._state_path(_system_prefix(system), cache_dir).is_file():
                self.warm(system, cache_dir)
                built += 1
        return built

    def _is_cached(self) -> bool:
        return list(self.llm._input_ids[: len(self._prefix)]) == self._prefix

    def _restore(self) -> None:
        import numpy as np
        from llama_cpp import LlamaState

        saved = self._saved
        scores = np.zeros((saved["n_tokens"], self.llm.n_vocab()), dtype=np.single)
        self.llm.load_state(LlamaState(saved["input_ids"], scores, saved["n_tokens"], saved["state"], len(saved["state"]), saved["seed"]))

    def stream(self, messages: Sequence[Message], max_tokens: int = 200, ban: str = "") -> Iterator[str]:
        """Greedy tokens for `messages`. A prompt that starts with the warmed system message is
        evaluated from that message's state alone, whatever came before it: llama.cpp would reuse
        the longest prefix it shares with the previous prompt, and logits computed over a different
        split of the same tokens differ in the last bits, so asking the same question twice gave two
        answers (2 of 11 seeds questions). `ban`: characters no generated token may contain."""
        self._from_system(messages)
        tokens = self.llm.tokenize(chat_prompt(messages).encode("utf-8"), add_bos=False, special=True)
        yield from self._greedy(tokens, max_tokens, self.banned(ban))

    def _greedy(self, tokens: list[int], max_tokens: int, bias: dict[int, float]) -> Iterator[str]:
        """Greedy decoding of `tokens`' continuation, as llama-cpp-python's create_completion does it
        (the same sampler chain: logit bias, repetition penalty 1.05 over the last 64 generated
        tokens, argmax; it stops at the end-of-turn token), with prompt-lookup drafts: after each
        token, the `self.draft` tokens that followed the last occurrence of the newest one to three tokens in
        the prompt (or the reply) are evaluated with it in one batch, and kept while the model's own
        choice agrees. An answer quotes its lines, so most steps keep some: docs/architecture.md
        "Decoding". Text is yielded as whole UTF-8 characters."""
        import codecs

        import numpy as np
        from llama_cpp import LogitsProcessorList, llama_vocab_is_eog

        llm = self.llm
        if len(tokens) >= llm.n_ctx():
            raise ValueError(f"Requested tokens ({len(tokens)}) exceed context window of {llm.n_ctx()}")
        max_tokens = min(max_tokens, llm.n_ctx() - len(tokens))
        kept = 0  # the longest prefix of the prompt already in the KV cache, less one to refresh the logits
        for a, b in zip(llm._input_ids, tokens):
            if a != b:
                break
            kept += 1
        llm.n_tokens = min(kept, len(tokens) - 1)
        processors = None
        if bias:
            ids, add = np.fromiter(bias, dtype=np.int64), np.fromiter(bias.values(), dtype=np.single)

            def biased(_, scores):
                out = np.copy(scores)
                out[ids] += add
                return out

            processors = LogitsProcessorList([biased])
        sampler = llm._init_sampler(top_k=1, temp=0.0, repeat_penalty=1.05, logits_processor=processors)
        llm.eval(tokens[llm.n_tokens :])  # logits for the last prompt token only
        first = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
        first = np.exp(first - first.max())  # a new array: llama.cpp's logits are left as they are
        self.last_opening = float(first[self._not_token] / first.sum())
        history, pending, at = list(tokens), [], -1  # `at`: which output of the last batch to sample
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            for _ in range(max_tokens):
                token = sampler.sample(llm._ctx, at)
                if llama_vocab_is_eog(llm._model.vocab, token):
                    break
                history.append(token)
                text = decoder.decode(llm.detokenize([token]))
                if text:
                    yield text
                if pending and pending[0] == token:  # the draft guessed it: its logits are already there
                    pending.pop(0)
                    at += 1
                    continue
                self._forget(len(pending))
                pending = _lookup(history, self.draft) if self.draft else []
                batch = [token, *pending]
                llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=True)
                llm._ctx.decode(llm._batch)
                llm.input_ids[llm.n_tokens : llm.n_tokens + len(batch)] = batch
                llm.n_tokens += len(batch)
                at = 0
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        finally:
            self._forget(len(pending))
            sampler.close()

    def _forget(self, n: int) -> None:
        """Drop the last `n` evaluated tokens (drafts the model did not write) from the KV cache."""
        if n:
            self.llm.n_tokens -= n
            self.llm._ctx.kv_cache_seq_rm(-1, self.llm.n_tokens, -1)

    def _from_system(self, messages: Sequence[Message]) -> None:
        """Start from the warmed system message's state alone when `messages` open with it."""
        if self._saved is not None and messages and messages[0].get("content") == self._system:
            if self._is_cached():
                self.llm.n_tokens = len(self._prefix)  # keep the system message (cached, so at least that long), forget the rest
            else:
                self._restore()

    def pick_and_copy(
        self, messages: Sequence[Message], lines: dict[int, str], max_tokens: int = 80, line: int | None = None, max_words: int | None = None
    ) -> str:
        """The evidence-first read (rag/answer/reader.py): after "Line:" only a key of `lines` (or 0) may
        follow (`line` given: that one, the model's probabilities over the others still recorded);
        after "Answer:" only a run of that line's tokens starting at a word, until the model
        stops, or once the copy is longer than `max_words` words (a copy the caller rejects
        anyway: no need to write the rest). Returns "Line: N\nAnswer: phrase" (or "Line: 0").
        Greedy and deterministic: it starts from the warmed system message's state, like `stream`."""
        from llama_cpp import LogitsProcessorList, StoppingCriteriaList

        from rag.models.constrain import CopyOnly, OneOf

        llm = self.llm
        tok = lambda text, special=False: llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        prompt = chat_prompt(messages) + "Line:"
        ids = tok(prompt, special=True)
        self._from_system(messages)
        ids = ids + tok(" ")  # Qwen writes "Line: 2" as "Line", ":", " ", "2": the number is one token after the space
        digits = {tok(str(n))[0]: n for n in [0, *lines] if len(tok(str(n))) == 1}
        forced = next((t for t, n in digits.items() if n == line), None) if line is not None else None
        pick = OneOf(set(digits), force=forced)
        out = llm.create_completion(ids, max_tokens=1, temperature=0.0, top_k=1, logits_processor=LogitsProcessorList([pick]))
        self.last_read = {
            "p_none": round(pick.probs.get(tok("0")[0], 0.0), 4),
            "p_line": round(max(pick.probs.values(), default=0.0), 4),
            "line_probs": {n: round(pick.probs.get(t, 0.0), 4) for t, n in digits.items()},
        }
        picked_text = out["choices"][0]["text"]
        try:
            n = int(picked_text.strip())
        except ValueError:
            n = 0
        if n not in lines:
            return f"Line: {picked_text.strip() or 0}"
        ids = ids + tok(str(n)) + tok("\nAnswer:")
        line_ids = tok(" " + lines[n])
        starts = {i for i, t in enumerate(line_ids) if llm.detokenize([t]).startswith(b" ")}
        stops = {llm.token_eos(), *tok("<|im_end|>", special=True)[:1], *tok("\n")[:1]}
        copy = CopyOnly(line_ids, starts, stops, start=len(ids))
        # past `max_words` words (whitespace runs in what is copied so far; the token being written is not yet in `so_far`)
        too_long = lambda so_far, _: len(llm.detokenize(list(so_far[len(ids) :])).split()) > max_words
        out = llm.create_completion(
            ids, max_tokens=max_tokens, temperature=0.0, top_k=1, logits_processor=LogitsProcessorList([copy]), stop=["\n"],
            stopping_criteria=StoppingCriteriaList([too_long]) if max_words else None,
        )
        self.last_read["wanted"] = [round(w, 4) for w in copy.wanted]
        return f"Line: {n}\nAnswer: {out['choices'][0]['text'].strip()}"

    def yes_no(self, messages: Sequence[Message]) -> float:
        """The probability the model gives "Yes" over "No" as its reply's first token (rag/answer/listing.py).
        One token is evaluated; starts from the warmed system message's state, like `stream`."""
        from llama_cpp import LogitsProcessorList

        from rag.models.constrain import OneOf

        llm = self.llm
        tok = lambda text, special=False: llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        prompt = chat_prompt(messages)
        self._from_system(messages)
        yes, no = tok("Yes")[0], tok("No")[0]
        verdict = OneOf({yes, no})
        llm.create_completion(tok(prompt, special=True), max_tokens=1, temperature=0.0, top_k=1, logits_processor=LogitsProcessorList([verdict]))
        return round(verdict.probs.get(yes, 0.0), 4)

    def banned(self, chars: str) -> dict[int, float]:
        """Every vocabulary token that contains one of `chars`, pushed far below any other (a scan
        of the vocabulary, ~0.4 s, once per set of characters)."""
        if not chars:
            return {}
        if chars not in self._bans:
            n = self.llm.n_vocab()
            text = [self.llm.detokenize([i]).decode("utf-8", "ignore") for i in range(n)]
            self._bans[chars] = {i: -100.0 for i, t in enumerate(text) if any(c in t for c in chars)}
        return self._bans[chars]

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))


class OpenAIGenerator:
    """A chat model behind an OpenAI-compatible server (POST {url}/chat/completions, streamed as
    server-sent events). Only the standard library: no client package to install."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout: float = 120.0):
        self.url = url.rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        self.model = model or "default"
        self.name = model or self.url
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self.timeout = timeout

    def _request(self, path: str, body: dict | None = None):
        import json
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST" if data else "GET")
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            detail = e.read(300).decode("utf-8", "replace")
            raise ModelMissingError(f"The LLM server at {self.url} answered HTTP {e.code}: {detail.strip()}. Check --llm-url and the model name.") from None
        except (urllib.error.URLError, OSError) as e:
            raise ModelMissingError(
                f"Cannot reach the LLM server at {self.url} ({getattr(e, 'reason', e)}). Start it (e.g. "
                f"python -m llama_cpp.server --model MODEL.gguf --port 8080) or unset RAG_LLM_URL to use the local model."
            ) from None

    def stream(self, messages: Sequence[Message], max_tokens: int = 200, ban: str = "") -> Iterator[str]:
        """`ban` is not applied: a server's token ids are its own."""
        import json

        body = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "temperature": 0.0,
            "max_tokens": max_tokens,
        }
        with self._request("/chat/completions", body) as resp:
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue  # blank separators, comments (": ping"), event names
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                try:
                    choice = json.loads(payload)["choices"][0]
                except (ValueError, KeyError, IndexError, TypeError):
                    raise ModelMissingError(f"The LLM server at {self.url} sent a malformed event: {payload[:120]!r}.") from None
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    yield delta


class ScriptedGenerator:
    """Replies from a script: a fixed string, or a function of the messages. For tests."""

    def __init__(self, reply, name: str = "scripted"):
        self.reply = reply
        self.name = name
        self.calls: list[list[Message]] = []
        self.bans: list[str] = []

    def pick_and_copy(
        self, messages: Sequence[Message], lines: dict[int, str], max_tokens: int = 80, line: int | None = None, max_words: int | None = None
    ) -> str:
        """The script's reply, as a constrained model could have written it: a number that is not
        shown becomes 0 (a `line` given replaces any other), the phrase is cut at the first word
        that is not a copy of its line, and after `max_words` + 1 words."""
        self.calls.append(list(messages))
        from rag.answer.reader import split_read

        n, phrase = split_read(self.reply(messages) if callable(self.reply) else self.reply)
        n = n if line is None or not n else line
        if n not in lines:
            return "Line: 0"
        phrase = phrase.split()
        while phrase and " ".join(phrase) not in lines[n]:
            phrase.pop()
        phrase = phrase[: max_words + 1] if max_words else phrase
        return f"Line: {n}\nAnswer: {' '.join(phrase)}"

    def yes_no(self, messages: Sequence[Message]) -> float:
        """1.0 when the script's reply starts with "Yes", else 0.0."""
        self.calls.append(list(messages))
        reply = self.reply(messages) if callable(self.reply) else self.reply
        return 1.0 if reply.strip().startswith("Yes") else 0.0

    def stream(self, messages: Sequence[Message], max_tokens: int = 200, ban: str = "") -> Iterator[str]:
        self.calls.append(list(messages))
        self.bans.append(ban)
        text = self.reply(messages) if callable(self.reply) else self.reply
        for i in range(0, len(text), 4):
            yield text[i : i + 4]
