"""Write an outline as OPML 2.0 or as a FreeMind 1.0 map (both UTF-8 XML).

Text is escaped for XML; inside attributes, line breaks and tabs are written as character
references (``&#10;``) so that a parser gives them back instead of turning them into spaces.
Nothing varies between runs (no ids, no dates), so the same outline gives the same bytes.
"""

from __future__ import annotations

from openplate.library.model import Topic
from openplate.library.outline import walk

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
     "\t": "&#9;"}
)
# Pretty-printing stops indenting past this depth, so a deep map does not export megabytes
# of spaces; the indentation has no meaning in either format.
_MAX_INDENT = 32


def xml_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES)


def xml_attribute(text: str) -> str:
    return text.translate(_ATTRIBUTE_ESCAPES)


def _indent(depth: int) -> str:
    return "  " * min(depth, _MAX_INDENT)


def write_opml(root: Topic, title: str) -> str:
    """An OPML 2.0 document: one top-level ``<outline>`` for the root topic."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n',
        f"  <head>\n    <title>{xml_text(title)}</title>\n  </head>\n  <body>\n",
    ]
    for topic, depth, entering in walk(root):
        indent = _indent(depth + 1)
        if not entering:
            if topic.children:
                parts.append(f"{indent}</outline>\n")
            continue
        parts.append(f'{indent}<outline text="{xml_attribute(topic.title)}"')
        if topic.note:
            parts.append(f' _note="{xml_attribute(topic.note)}"')
        if topic.link:
            parts.append(f' type="link" url="{xml_attribute(topic.link)}"')
        parts.append(">\n" if topic.children else "/>\n")
    parts.append("  </body>\n</opml>\n")
    return "".join(parts)


def _note_html(note: str) -> str:
    """A note as the HTML FreeMind keeps notes in: one ``<p>`` per line, as its editor
    writes them (an empty ``<p>`` for a blank line)."""
    paragraphs = "".join(f"<p>{xml_text(line)}</p>" for line in note.split("\n"))
    return (
        '<richcontent TYPE="NOTE"><html><head></head><body>'
        f"{paragraphs}</body></html></richcontent>\n"
    )


def write_freemind(root: Topic, title: str) -> str:
    """A FreeMind 1.0.1 map (``<map><node TEXT=…>``), which Freeplane also opens."""
    del title  # a FreeMind map has no title apart from its root node
    parts = ['<map version="1.0.1">\n']
    for topic, depth, entering in walk(root):
        indent = _indent(depth - 1)
        if not entering:
            if topic.children or topic.note:
                parts.append(f"{indent}</node>\n")
            continue
        parts.append(f'{indent}<node TEXT="{xml_attribute(topic.title)}"')
        if topic.link:
            parts.append(f' LINK="{xml_attribute(topic.link)}"')
        if topic.children or topic.note:
            parts.append(">\n")
            if topic.note:
                parts.append(_indent(depth) + _note_html(topic.note))
        else:
            parts.append("/>\n")
    parts.append("</map>\n")
    return "".join(parts)
