"""Plain text from the HTML fragments some formats store titles and notes in.

The collector is fed parser events (start tag, end tag, text) by a streaming XML handler. Text
inside ``head``, ``style``, ``script`` and ``title`` is skipped. Each block element (``p``,
``div``, ``li`` …) starts and ends a line, and a block with no visible text in it is an empty
line; ``<br>`` breaks a line. Other whitespace collapses as HTML renders it, except inside
``<pre>`` (or everywhere, for a collector made with ``keep_breaks=True``, for plain text).
The result still goes through :func:`~openplate.library.cleaning.clean_title` or
:func:`~openplate.library.cleaning.clean_note`.
"""

from __future__ import annotations

import re

BLOCK_TAGS = frozenset({
    "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
    "table", "blockquote", "pre", "body", "dd", "dt", "dl", "section", "article", "hr",
})
HIDDEN_TAGS = frozenset({"head", "style", "script", "title"})
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")


class RichText:
    """Collects the visible text of an HTML fragment from parser events."""

    def __init__(self, *, keep_breaks: bool = False) -> None:
        self._parts: list[str] = []
        self._hidden = 0
        self._pre = 1 if keep_breaks else 0
        self._line_has_text = False
        self._texts = 0  # pieces of visible text so far
        self._blocks: list[int] = []  # ``_texts`` when each open block started

    def _newline(self) -> None:
        self._parts.append("\n")
        self._line_has_text = False

    def start(self, local: str) -> None:
        lowered = local.lower()
        if lowered in HIDDEN_TAGS:
            self._hidden += 1
        elif lowered == "br":
            self._newline()
        elif lowered in BLOCK_TAGS:
            if self._line_has_text:
                self._newline()
            self._blocks.append(self._texts)
            if lowered == "pre":
                self._pre += 1

    def end(self, local: str) -> None:
        lowered = local.lower()
        if lowered in HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        elif lowered in BLOCK_TAGS:
            empty = bool(self._blocks) and self._blocks.pop() == self._texts
            if self._line_has_text or empty:
                self._newline()  # an empty block still makes a (blank) line
            if lowered == "pre":
                self._pre = max(self._pre - 1, 0)

    def data(self, text: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            text = _WHITESPACE.sub(" ", text)
        self._parts.append(text)
        if "\n" in text:
            self._line_has_text = bool(text.rsplit("\n", 1)[1].strip())
        elif text.strip():
            self._line_has_text = True
        if text.strip():
            self._texts += 1

    def text(self) -> str:
        return "".join(self._parts)
