"""Parse the ``content.json`` document of an XMind Zen / 2020+ workbook.

Each sheet's ``rootTopic`` becomes one outline. A topic's children are its
``children.attached`` topics followed by its ``children.detached`` (floating) topics;
summary and callout topics are ignored. A topic's note is ``notes.plain.content`` and its link
``href``; either is ignored when it is not a string.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from openplate.library.cleaning import clean_link, clean_note, clean_title
from openplate.library.model import MapRejected, Topic, UploadLimits
from openplate.library.outline import TopicBudget, TopicHead, build_tree

JsonObject = dict[str, object]

CHILD_KINDS = ("attached", "detached")
# Only these keys are kept while decoding, which keeps memory low for style-heavy maps.
_KEPT_KEYS = frozenset(
    {"rootTopic", "title", "children", *CHILD_KINDS, "notes", "plain", "content", "href"}
)
_EMPTY: JsonObject = {}


def _compact(pairs: list[tuple[str, object]]) -> JsonObject:
    kept = {key: value for key, value in pairs if key in _KEPT_KEYS}
    return kept or _EMPTY  # shared, never mutated


def _bad_shape(what: str) -> MapRejected:
    return MapRejected.invalid(f"The workbook's content.json is malformed: {what}.")


def load_json(raw: bytes) -> object:
    """Decode ``raw`` as JSON, mapping decoder failures to MapRejected."""
    try:
        return json.loads(raw, object_pairs_hook=_compact)
    except RecursionError as exc:
        raise MapRejected.unsafe("The workbook's content.json is nested too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise MapRejected.invalid("The workbook's content.json is not valid JSON.") from exc


def _note_of(node: JsonObject) -> str:
    notes = node.get("notes")
    plain = notes.get("plain") if isinstance(notes, dict) else None
    content = plain.get("content") if isinstance(plain, dict) else None
    return content if isinstance(content, str) else ""


def _head_reader(limits: UploadLimits) -> Callable[[JsonObject], TopicHead]:
    def head_of(node: JsonObject) -> TopicHead:
        title = node.get("title", "")
        if not isinstance(title, str):
            raise _bad_shape("a topic title is not a string")
        href = node.get("href")
        return TopicHead(
            clean_title(title, limits),
            clean_note(_note_of(node), limits),
            clean_link(href, limits) if isinstance(href, str) else "",
        )

    return head_of


def _children_of(node: JsonObject) -> list[JsonObject]:
    children = node.get("children")
    if children is None:
        return []
    if not isinstance(children, dict):
        raise _bad_shape("a topic's children are not an object")
    found: list[JsonObject] = []
    for kind in CHILD_KINDS:
        topics = children.get(kind)
        if topics is None:
            continue
        if not isinstance(topics, list):
            raise _bad_shape("a topic's child list is not an array")
        for topic in topics:
            if not isinstance(topic, dict):
                raise _bad_shape("a child topic is not an object")
            found.append(topic)
    return found


def parse_content_json(raw: bytes, limits: UploadLimits, budget: TopicBudget) -> list[Topic]:
    """Return the root topic of every sheet in an XMind ``content.json`` document."""
    document = load_json(raw)
    if not isinstance(document, list):
        raise _bad_shape("the top level is not a list of sheets")
    if not document:
        raise MapRejected.invalid("The workbook has no sheets.")
    head_of = _head_reader(limits)
    roots: list[Topic] = []
    for sheet in document:
        if not isinstance(sheet, dict):
            raise _bad_shape("a sheet is not an object")
        root = sheet.get("rootTopic")
        if not isinstance(root, dict):
            raise _bad_shape("a sheet has no rootTopic")
        roots.append(build_tree(root, head_of, _children_of, budget))
    return roots
