"""Plain text from the HTML fragments some formats store titles and notes in.

The collector is fed parser events (start tag, end tag, text) by a streaming XML handler. Text
inside ``head``, ``style``, ``script`` and ``title`` is skipped; block elements and ``<br>``
become line breaks; other whitespace collapses as HTML renders it, except inside ``<pre>``
(or for a collector made with ``keep_breaks=True``, for text that is plain rather than HTML).
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

    def start(self, local: str) -> None:
        lowered = local.lower()
        if lowered in HIDDEN_TAGS:
            self._hidden += 1
        elif lowered == "br":
            self._parts.append("\n")
        elif lowered in BLOCK_TAGS:
            self._parts.append("\n")
            if lowered == "pre":
                self._pre += 1

    def end(self, local: str) -> None:
        lowered = local.lower()
        if lowered in HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        elif lowered in BLOCK_TAGS:
            self._parts.append("\n")
            if lowered == "pre":
                self._pre = max(self._pre - 1, 0)

    def data(self, text: str) -> None:
        if self._hidden:
            return
        self._parts.append(text if self._pre else _WHITESPACE.sub(" ", text))

    def text(self) -> str:
        return "".join(self._parts)
