"""The JSON export of a map, and reading it back.

The document is ``{"version": 1, "title": "…", "sheets": [topic, …]}``, where each topic has
``Topic.to_json()``'s shape: ``{"title", "note", "link", "children"}``, empty ones left out.
It is written compactly (indentation would cost a 200-level map megabytes), as UTF-8, keys in
that order, without recursion at any depth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openplate.library.cleaning import clean_link, clean_note, clean_title
from openplate.library.model import MapRejected, Topic, UploadLimits, describe_size
from openplate.library.outline import TopicBudget, TopicHead, build_tree

VERSION = 1
_DEFAULT_LIMITS = UploadLimits()
_DOCUMENT_KEYS = frozenset({"version", "title", "sheets"})
_TOPIC_KEYS = frozenset({"title", "note", "link", "children"})


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _open(topic: Topic) -> str:
    text = '{"title":' + _string(topic.title)
    if topic.note:
        text += ',"note":' + _string(topic.note)
    if topic.link:
        text += ',"link":' + _string(topic.link)
    return text + (',"children":[' if topic.children else "}")


def _write_topic(root: Topic, parts: list[str]) -> None:
    parts.append(_open(root))
    stack: list[Iterator[Topic]] = [iter(root.children)] if root.children else []
    first = True
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            parts.append("]}")
            first = False
            continue
        if not first:
            parts.append(",")
        parts.append(_open(child))
        if child.children:
            stack.append(iter(child.children))
            first = True
        else:
            first = False


def write_json(sheets: Sequence[Topic], title: str) -> str:
    """The JSON document for ``sheets``: what ``json.dumps`` gives for the same data with
    ``ensure_ascii=False`` and ``separators=(",", ":")``, plus a final newline."""
    parts = [f'{{"version":{VERSION},"title":{_string(title)},"sheets":[']
    for index, sheet in enumerate(sheets):
        if index:
            parts.append(",")
        _write_topic(sheet, parts)
    parts.append("]}\n")
    return "".join(parts)


@dataclass(frozen=True)
class JsonMap:
    """A map read back from its JSON export."""

    title: str
    sheets: tuple[Topic, ...]
    topic_count: int


def _bad(what: str) -> MapRejected:
    return MapRejected.invalid(f"The JSON map is malformed: {what}.")


def _topic_fields(node: object, limits: UploadLimits) -> TopicHead:
    if not isinstance(node, dict):
        raise _bad("a topic is not an object")
    if not node.keys() <= _TOPIC_KEYS:
        raise _bad("a topic has an unknown key")
    title, note, link = node.get("title"), node.get("note", ""), node.get("link", "")
    if not isinstance(title, str):
        raise _bad("a topic title is missing or not a string")
    if not isinstance(note, str) or not isinstance(link, str):
        raise _bad("a topic note or link is not a string")
    return TopicHead(
        clean_title(title, limits), clean_note(note, limits), clean_link(link, limits)
    )


def _children(node: object) -> list[object]:
    assert isinstance(node, dict)  # _topic_fields ran first
    children = node.get("children", [])
    if not isinstance(children, list):
        raise _bad("a topic's children are not an array")
    return children


def import_json(data: bytes, limits: UploadLimits = _DEFAULT_LIMITS) -> JsonMap:
    """Read a JSON export back, with the same limits and cleaning as an upload.

    Raises :class:`MapRejected`: ``map_too_large`` past ``max_bytes`` or ``max_xml_bytes``,
    ``invalid_map`` for anything that is not this document shape, ``unsafe_map`` past the
    depth or topic limits (or for JSON nested deeply enough to stop the decoder).
    """
    largest = min(limits.max_bytes, limits.max_xml_bytes)
    if len(data) > largest:
        raise MapRejected.too_large(
            f"The JSON map is larger than the {describe_size(largest)} limit."
        )
    try:
        document = json.loads(data)
    except RecursionError as exc:
        raise MapRejected.unsafe("The JSON map is nested too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise MapRejected.invalid("The JSON map is not valid JSON.") from exc
    if not isinstance(document, dict) or not document.keys() <= _DOCUMENT_KEYS:
        raise _bad('the top level is not {"version", "title", "sheets"}')
    version = document.get("version", VERSION)
    if type(version) is not int or version != VERSION:
        raise _bad(f"only version {VERSION} is understood")
    title, sheets = document.get("title", ""), document.get("sheets")
    if not isinstance(title, str):
        raise _bad("the title is not a string")
    if not isinstance(sheets, list) or not sheets:
        raise _bad("there is no non-empty sheets array")
    budget = TopicBudget(limits)
    roots = tuple(
        build_tree(sheet, lambda node: _topic_fields(node, limits), _children, budget)
        for sheet in sheets
    )
    return JsonMap(clean_title(title, limits), roots, budget.count)
