"""A map's outline as nested HTML lists: the map page's reading of every topic, for screen
readers and browsers without JavaScript.

Built in one pass over the stored outline (a list of sheets, each a topic ``{"title",
"children", "note"?, "link"?}``) with an explicit stack, so a map 200 levels deep costs no
recursion. Every text is escaped; a note goes under its topic's title; a link is shown as one
(``rel="nofollow ugc noopener"``), and only when it is an ``http``, ``https`` or ``mailto``
address (the parsers keep no other, and this checks again). Anything not shaped like a topic
is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from markupsafe import Markup

_SAFE_SCHEMES = ("http://", "https://", "mailto:")


_LINK = Markup('<a class="topic" dir="auto" href="{}" rel="nofollow ugc noopener">{}</a>')
_TEXT = Markup('<span class="topic" dir="auto">{}</span>')
_NOTE = Markup('<p class="note" dir="auto">{}</p>')
_OPEN, _OPEN_LIST = Markup("<li>"), Markup("<ul>")
_CLOSE, _CLOSE_LIST, _CLOSE_BRANCH = Markup("</li>"), Markup("</ul>"), Markup("</ul></li>")


def _head(topic: dict[str, Any]) -> Markup:
    """The topic's title (a link, if it has one) and its note; ``format`` escapes each."""
    title = topic.get("title")
    text = title if isinstance(title, str) and title else "(untitled)"
    link = topic.get("link")
    if isinstance(link, str) and link.lower().startswith(_SAFE_SCHEMES):
        head = _LINK.format(link, text)
    else:
        head = _TEXT.format(text)
    note = topic.get("note")
    if isinstance(note, str) and note.strip():
        head += _NOTE.format(note)
    return head


def _topics(items: Any) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                yield item


def outline_html(sheets: Any) -> Markup:
    """``<ul class="outline">`` holding every sheet's topics, nested as in the map."""
    out = [Markup('<ul class="outline">')]
    stack = [_topics(sheets)]
    while stack:
        topic = next(stack[-1], None)
        if topic is None:
            stack.pop()
            out.append(_CLOSE_BRANCH if stack else _CLOSE_LIST)
            continue
        out += (_OPEN, _head(topic))
        children = topic.get("children")
        if isinstance(children, list) and children:
            out.append(_OPEN_LIST)
            stack.append(_topics(children))
        else:
            out.append(_CLOSE)
    return Markup("").join(out)
