"""The article viewer (scrolled to the cited lines, highlighted) and the help screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from tui.text import Ref, clean, line_text


class ArticleLine(Static):
    def __init__(self, number: int, text: Text, cited: bool, boilerplate: bool) -> None:
        classes = "line" + (" -cited" if cited else "") + (" -boilerplate" if boilerplate else "")
        super().__init__(text, classes=classes)
        self.number = number


class ArticleScreen(Screen):
    """One article with line numbers; the cited lines are highlighted and scrolled into view."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("c", "center", "Back to the cited line"),
    ]

    def __init__(self, doc, ref: Ref) -> None:
        super().__init__()
        self.doc = doc
        self.ref = ref
        self.cited = range(ref.start_line, ref.end_line + 1)

    def compose(self) -> ComposeResult:
        doc = self.doc
        head = Text(clean(doc.title.strip()) or clean(doc.path), style="bold")
        head.append("\n" + (clean(doc.date) or "no date") + " · ", style="dim")
        head.append(clean(doc.path), style="dim")
        head.append(f" · {'cited' if self.ref.cited else 'found'} at line {self.ref.ref.rsplit(':', 1)[-1]}", style="dim")
        yield Static(head, id="article-head")
        gutter = len(str(len(doc.lines)))
        boiler = doc.boilerplate_from or len(doc.lines) + 1
        with VerticalScroll(id="article-body"):
            for n, line in enumerate(doc.lines, 1):
                # Blank lines only separate paragraphs; skipping them keeps more text on a small screen.
                if line.strip() or n in self.cited:
                    yield ArticleLine(n, line_text(n, line, gutter), n in self.cited, n >= boiler)
        yield Footer()

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#article-body", VerticalScroll)

    @property
    def highlighted(self) -> list[int]:
        """Line numbers shown highlighted (what a test or a reader can check)."""
        return [w.number for w in self.query(".-cited").results(ArticleLine)]

    def line_widget(self, number: int) -> ArticleLine | None:
        for w in self.query(ArticleLine):
            if w.number >= number:
                return w
        return None

    def on_mount(self) -> None:
        self.body.focus()
        self.call_after_refresh(self._scroll_to_ref)

    def _scroll_to_ref(self) -> None:
        target = self.line_widget(self.ref.start_line)
        if target is not None:
            self.body.scroll_to_center(target, animate=False, immediate=True)

    def is_visible(self, number: int) -> bool:
        """Whether line `number` is inside the scrolled viewport."""
        w = self.line_widget(number)
        if w is None:
            return False
        top = w.virtual_region.y
        return self.body.scroll_y <= top < self.body.scroll_y + self.body.scrollable_content_region.height

    def action_center(self) -> None:
        self._scroll_to_ref()

    def action_dismiss(self) -> None:
        self.app.pop_screen()


def help_rows(app_bindings: list[Binding]) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding of the app and the article viewer, plus the implicit ones."""
    rows = [("enter", "Send the question"), ("?", "Help (in an empty question box)")]
    rows += [(b.key, b.tooltip or b.description) for b in app_bindings]
    rows += [("tab, shift+tab", "Move between the question box, [n] markers and the evidence list")]
    rows += [("up, down, enter", "In the evidence list: pick a line; open its article")]
    rows += [(b.key, f"In the article: {(b.tooltip or b.description).lower()}") for b in ArticleScreen.BINDINGS]
    rows += [("ctrl+p", "Command palette"), ("ctrl+q", "Quit")]
    return rows


class HelpScreen(ModalScreen):
    """Every key binding, generated from the bindings themselves so it cannot go stale."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1,question_mark", "close", "Close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self.rows) + 2
        text = Text("Keys\n\n", style="bold")
        for keys, what in self.rows:
            text.append(f"{keys:<{width}}", style="bold")
            text.append(what + "\n")
        text.append("\nMouse: click a question to show its evidence, a [n] or an evidence line to open the article.", style="dim")
        with Vertical(id="help-box"):
            yield VerticalScroll(Static(text, id="help-text"))

    def action_close(self) -> None:
        self.app.pop_screen()
