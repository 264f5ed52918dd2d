"""Read a Markdown outline (ATX headings and nested lists) into a single-sheet outline.

The text must be UTF-8 (a BOM is allowed) with no control characters other than tab, line
feed, carriage return and form feed, and it must hold at least one heading or list item.

* The first heading is the root; when there is none, the first line (item or text) is.
* Each later heading nests under the nearest heading above it of a lower level, and under the
  root when there is none.
* A list item (``-``, ``*``, ``+``, ``1.``, ``1)``) nests under the nearest item above it that
  is less indented, or else under the heading it follows. Tabs count to the next multiple of 4.
* Other text is a note: it belongs to the nearest open item it is indented past, or to the
  line it directly continues, or else to the heading above it. Fenced code stays together.
* A title that is one whole link, ``[text](url)``, gives the title and the link.
* Thematic breaks and a leading YAML front-matter block are skipped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from openplate.library.cleaning import clean_link, clean_note, clean_title
from openplate.library.formats import FORMATS, MARKDOWN, NOT_A_MAP
from openplate.library.markdown_syntax import split_link, unescape
from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits, describe_size
from openplate.library.outline import TopicBudget

FORMAT = FORMATS[MARKDOWN]

_BOM = "\ufeff"
_BINARY = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|$)")
_ITEM = re.compile(r"([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_END = frozenset({"---", "..."})

# Kinds of line.
_BLANK, _BREAK, _HEADING_LINE, _ITEM_LINE, _TEXT, _CODE = (
    "blank", "break", "heading", "item", "text", "code"
)


class _Line(NamedTuple):
    kind: str
    indent: int = 0  # columns before the marker or text
    level: int = 0  # heading level
    text: str = ""


def _columns(prefix: str) -> int:
    width = 0
    for char in prefix:
        width = width + 4 - width % 4 if char == "\t" else width + 1
    return width


def _heading_text(rest: str) -> str:
    rest = rest.strip(" \t")
    without = rest.rstrip("#")
    if without != rest and (not without or without[-1] in " \t"):
        rest = without.rstrip(" \t")
    return rest


def _lines(text: str) -> Iterator[_Line]:
    """Classify each line; fenced code and front matter are recognised here."""
    fence = ""
    reader = io.StringIO(text, newline=None)
    first = True
    front_matter = False
    for raw in reader:
        line = raw.rstrip("\n")
        if first:
            first = False
            if line.rstrip() == "---":
                front_matter = True
                yield _Line(_BLANK)
                continue
        if front_matter:
            if line.rstrip() in _FRONT_MATTER_END:
                front_matter = False
            yield _Line(_BLANK)
            continue
        stripped = line.strip(" \t")
        indent = _columns(line[: len(line) - len(line.lstrip(" \t"))])
        if fence:
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = ""
            yield _Line(_CODE, indent, text=stripped)
            continue
        if not stripped:
            yield _Line(_BLANK)
            continue
        opened = _FENCE.match(line)
        if opened is not None:
            fence = opened.group(1)
            yield _Line(_CODE, indent, level=1, text=stripped)  # level 1: the opening fence
            continue
        heading = _HEADING.match(line)
        if heading is not None:
            text_part = _heading_text(line[heading.end() :])
            yield _Line(_HEADING_LINE, indent, len(heading.group(1)), text_part)
            continue
        if _THEMATIC_BREAK.fullmatch(line):
            yield _Line(_BREAK)
            continue
        item = _ITEM.match(line)
        if item is not None:
            yield _Line(_ITEM_LINE, _columns(item.group(1)), text=line[item.end() :].strip())
            continue
        yield _Line(_TEXT, indent, text=stripped)


@dataclass
class _Node:
    title: str
    link: str
    depth: int
    indent: int = -1  # the marker column of a list item; -1 for headings
    level: int = 0  # the level of a heading
    note: list[str] = field(default_factory=list)
    note_chars: int = 0
    children: list[_Node] = field(default_factory=list)


class _Builder:
    """Turns classified lines into a tree of nodes, one line at a time."""

    def __init__(self, limits: UploadLimits, budget: TopicBudget, first: _Line) -> None:
        self._limits = limits
        self._budget = budget
        budget.add(1)
        self.root = self._node(first.text, 1)
        self.root.level = first.level
        self._headings = [self.root]
        self._base: list[_Node] = []  # an item root stays at the bottom of the list stack
        if first.kind == _ITEM_LINE:
            self.root.indent = first.indent
            self._base = [self.root]
        self._items = list(self._base)
        self._owner: _Node | None = None  # whose note the current paragraph continues
        self._blank = True
        self._fence_owner: _Node | None = None

    def _node(self, raw: str, depth: int) -> _Node:
        title, link = split_link(raw)
        return _Node(clean_title(title, self._limits), clean_link(link, self._limits), depth)

    def _child(self, parent: _Node, raw: str) -> _Node:
        self._budget.add(parent.depth + 1)
        node = self._node(raw, parent.depth + 1)
        parent.children.append(node)
        return node

    def restart_at_root(self) -> None:
        """The root heading's own line: what follows it starts afresh under the root."""
        self._headings = [self.root]
        self._items = list(self._base)
        self._owner = self.root
        self._blank = False
        self._fence_owner = None

    def feed(self, line: _Line) -> None:
        if line.kind in (_BLANK, _BREAK):
            self._blank = True
            if line.kind == _BREAK:
                self._owner = None
            return
        if line.kind == _HEADING_LINE:
            while len(self._headings) > 1 and self._headings[-1].level >= line.level:
                self._headings.pop()
            node = self._child(self._headings[-1], line.text)
            node.level = line.level
            self._headings.append(node)
            self._items = list(self._base)
            self._owner = None
        elif line.kind == _ITEM_LINE:
            while len(self._items) > len(self._base) and self._items[-1].indent >= line.indent:
                self._items.pop()
            parent = self._items[-1] if self._items else self._headings[-1]
            node = self._child(parent, line.text)
            node.indent = line.indent
            self._items.append(node)
            self._owner = node
        else:
            self._add_note(line)
            return
        self._blank = False
        self._fence_owner = None

    def _note_owner(self, line: _Line) -> _Node:
        if line.kind == _CODE and line.level == 0 and self._fence_owner is not None:
            return self._fence_owner  # the rest of a fenced block stays with its start
        if not self._blank and self._owner is not None:
            return self._owner  # a line that directly continues a title or a note
        for index in range(len(self._items) - 1, -1, -1):
            if self._items[index].indent < line.indent:
                del self._items[index + 1 :]
                return self._items[index]
        self._items = list(self._base)
        return self._headings[-1]

    def _add_note(self, line: _Line) -> None:
        owner = self._note_owner(line)
        if line.kind == _CODE:
            if line.level == 1:
                self._fence_owner = owner
            text = line.text
        else:
            self._fence_owner = None
            text = unescape(line.text)
        if owner.note_chars <= self._limits.max_note_chars:
            words = " ".join(text.split())
            if self._blank and owner.note:
                owner.note.append("")
            owner.note.append(words)
            owner.note_chars += len(words) + 1
        self._owner = owner
        self._blank = False

    def topic(self) -> Topic:
        """The finished tree as topics, built bottom-up without recursion."""
        built: dict[int, Topic] = {}
        stack: list[tuple[_Node, bool]] = [(self.root, False)]
        while stack:
            node, expanded = stack.pop()
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
                continue
            built[id(node)] = Topic(
                node.title,
                tuple(built.pop(id(child)) for child in node.children),
                clean_note("\n".join(node.note), self._limits),
                node.link,
            )
        return built[id(self.root)]


def _decode(data: bytes) -> str | None:
    """The text of a UTF-8 document, or None for anything that is not plain UTF-8 text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.removeprefix(_BOM)
    return None if _BINARY.search(text) else text


def _root_line(text: str) -> tuple[int, _Line] | None:
    """The line that becomes the root: the first heading, else the first item or text line;
    None unless the document has a heading or a list item with some text."""
    first: tuple[int, _Line] | None = None
    heading: tuple[int, _Line] | None = None
    structured = False
    for index, line in enumerate(_lines(text)):
        if line.kind == _HEADING_LINE and heading is None:
            heading = index, line
        if line.kind in (_ITEM_LINE, _TEXT) and first is None:
            first = index, line
        if line.kind in (_HEADING_LINE, _ITEM_LINE) and line.text:
            structured = True
        if structured and heading is not None:
            break
    if not structured:
        return None
    return heading or first


def parse_markdown(data: bytes, limits: UploadLimits) -> ParsedMap:
    """Parse a Markdown outline; raise MapRejected (415 when it is not one)."""
    text = _decode(data)
    if text is None:
        raise MapRejected.unsupported(NOT_A_MAP)
    if len(data) > limits.max_xml_bytes:
        raise MapRejected.too_large(
            f"The map document is larger than the {describe_size(limits.max_xml_bytes)} limit."
        )
    found = _root_line(text)
    if found is None:
        raise MapRejected.unsupported(NOT_A_MAP)
    root_index, root_line = found
    budget = TopicBudget(limits)
    builder = _Builder(limits, budget, root_line)
    for index, line in enumerate(_lines(text)):
        if index == root_index:
            builder.restart_at_root()
        else:
            builder.feed(line)
    return ParsedMap(
        format=FORMAT.name,
        extension=FORMAT.extension,
        media_type=FORMAT.media_type,
        sheets=(builder.topic(),),
        topic_count=budget.count,
        thumbnail_png=None,
    )
