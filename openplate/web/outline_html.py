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

from markupsafe import Markup, escape

_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _head(topic: dict[str, Any]) -> str:
    title = topic.get("title")
    text = escape(title if isinstance(title, str) and title else "(untitled)")
    link = topic.get("link")
    if isinstance(link, str) and link.lower().startswith(_SAFE_SCHEMES):
        head = (f'<a class="topic" dir="auto" href="{escape(link)}" '
                f'rel="nofollow ugc noopener">{text}</a>')
    else:
        head = f'<span class="topic" dir="auto">{text}</span>'
    note = topic.get("note")
    if isinstance(note, str) and note.strip():
        head += f'<p class="note" dir="auto">{escape(note)}</p>'
    return head


def _topics(items: Any) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                yield item


def outline_html(sheets: Any) -> Markup:
    """``<ul class="outline">`` holding every sheet's topics, nested as in the map."""
    out = ['<ul class="outline">']
    stack = [_topics(sheets)]
    while stack:
        topic = next(stack[-1], None)
        if topic is None:
            stack.pop()
            out.append("</ul></li>" if stack else "</ul>")
            continue
        out.append("<li>" + _head(topic))
        children = topic.get("children")
        if isinstance(children, list) and children:
            out.append("<ul>")
            stack.append(_topics(children))
        else:
            out.append("</li>")
    return Markup("".join(out))
