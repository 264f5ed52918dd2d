"""Write an outline as Markdown: headings for the top levels, nested lists below them.

The root is a ``#`` heading, depths 2 and 3 are ``##`` and ``###`` headings, and deeper topics
are ``-`` list items indented two spaces per level. A note follows its topic's line after a
blank line (indented under a list item). Titles and notes are escaped (see
:mod:`openplate.library.markdown_syntax`), so the Markdown reader gives the same outline back.
"""

from __future__ import annotations

from openplate.library.markdown_syntax import escape_line, write_link
from openplate.library.model import Topic
from openplate.library.outline import walk

HEADING_DEPTH = 3


def _title(topic: Topic) -> str:
    return write_link(topic.title, topic.link) if topic.link else escape_line(topic.title)


def write_markdown(root: Topic, title: str) -> str:
    """The outline of ``root`` as Markdown text (``title`` is not used: the root is)."""
    del title
    lines: list[str] = []

    def blank() -> None:
        if lines and lines[-1]:
            lines.append("")

    for topic, depth, entering in walk(root):
        if not entering:
            continue
        if depth <= HEADING_DEPTH:
            blank()
            lines.append(f"{'#' * depth} {_title(topic)}")
            blank()
            note_indent = ""
        else:
            indent = "  " * (depth - HEADING_DEPTH - 1)
            lines.append(f"{indent}- {_title(topic)}")
            note_indent = indent + "  "
        if topic.note:
            blank()
            lines.extend(
                f"{note_indent}{escape_line(line)}" if line else "" for line in topic.note.split("\n")
            )
            blank()
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
