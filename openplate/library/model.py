"""Value types for parsed mind maps: limits, topics, the parsed map and the rejection error."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# Machine-readable rejection codes and the HTTP status that goes with each.
MAP_TOO_LARGE = "map_too_large"
UNSUPPORTED_MAP_FORMAT = "unsupported_map_format"
INVALID_MAP = "invalid_map"
UNSAFE_MAP = "unsafe_map"

STATUS_FOR_ERROR: dict[str, int] = {
    MAP_TOO_LARGE: 413,
    UNSUPPORTED_MAP_FORMAT: 415,
    INVALID_MAP: 422,
    UNSAFE_MAP: 422,
}

UNTITLED = "(untitled)"


@dataclass(frozen=True)
class UploadLimits:
    """Resource limits applied while parsing one upload (see docs/mindmaps.md)."""

    max_bytes: int = 20 * MIB
    max_zip_entries: int = 500
    max_uncompressed_bytes: int = 100 * MIB
    max_compression_ratio: int = 100
    max_xml_bytes: int = 20 * MIB
    max_topics: int = 50_000
    max_depth: int = 200
    max_title_chars: int = 2000
    max_note_chars: int = 20_000
    max_link_chars: int = 2000
    max_thumbnail_pixels: int = 16_000_000


class MapRejected(Exception):
    """An upload that is not an acceptable mind map; safe to show to the uploader."""

    def __init__(self, error: str, description: str, status: int = 422) -> None:
        super().__init__(error, description, status)
        self.error = error
        self.description = description
        self.status = status

    def __str__(self) -> str:
        return f"{self.error}: {self.description}"

    @classmethod
    def too_large(cls, description: str) -> MapRejected:
        return cls(MAP_TOO_LARGE, description, STATUS_FOR_ERROR[MAP_TOO_LARGE])

    @classmethod
    def unsupported(cls, description: str) -> MapRejected:
        return cls(UNSUPPORTED_MAP_FORMAT, description, STATUS_FOR_ERROR[UNSUPPORTED_MAP_FORMAT])

    @classmethod
    def invalid(cls, description: str) -> MapRejected:
        return cls(INVALID_MAP, description, STATUS_FOR_ERROR[INVALID_MAP])

    @classmethod
    def unsafe(cls, description: str) -> MapRejected:
        return cls(UNSAFE_MAP, description, STATUS_FOR_ERROR[UNSAFE_MAP])


_TOPIC_KEYS = frozenset({"title", "note", "link", "children"})


@dataclass(frozen=True)
class Topic:
    """One node of a mind-map outline: a title, its children, a plain-text note and a link."""

    title: str
    children: tuple[Topic, ...] = ()
    note: str = ""
    link: str = ""

    def _head(self) -> dict[str, object]:
        out: dict[str, object] = {"title": self.title}
        if self.note:
            out["note"] = self.note
        if self.link:
            out["link"] = self.link
        return out

    def to_json(self) -> dict[str, object]:
        """Return ``{"title", "note", "link", "children"}``; empty ones are left out."""
        root = self._head()
        stack: list[tuple[Topic, dict[str, object]]] = [(self, root)]
        while stack:
            topic, out = stack.pop()
            if topic.children:
                kids = [child._head() for child in topic.children]
                out["children"] = kids
                stack.extend(zip(topic.children, kids, strict=True))
        return root

    @classmethod
    def from_json(cls, data: object) -> Topic:
        """Rebuild a topic tree from :meth:`to_json` output; raise ValueError on bad shapes."""
        # Pre-order walk with an explicit stack (no recursion), then build bottom-up.
        order: list[tuple[str, str, str, int]] = []  # (title, note, link, parent index)
        seen: set[int] = set()
        stack: list[tuple[object, int]] = [(data, -1)]
        while stack:
            node, parent = stack.pop()
            if not isinstance(node, dict):
                raise ValueError("a topic must be a JSON object")
            if id(node) in seen:
                raise ValueError("the topic tree contains a cycle")
            seen.add(id(node))
            if not set(node) <= _TOPIC_KEYS:
                raise ValueError("a topic has unexpected keys")
            title = node.get("title")
            if not isinstance(title, str):
                raise ValueError("a topic title must be a string")
            note = node.get("note", "")
            link = node.get("link", "")
            if not isinstance(note, str) or not isinstance(link, str):
                raise ValueError("a topic note or link must be a string")
            children = node.get("children", [])
            if not isinstance(children, list):
                raise ValueError("topic children must be a list")
            index = len(order)
            order.append((title, note, link, parent))
            stack.extend((child, index) for child in reversed(children))
        built: list[list[Topic]] = [[] for _ in order]
        result: Topic | None = None
        for index in range(len(order) - 1, -1, -1):
            title, note, link, parent = order[index]
            topic = cls(title, tuple(reversed(built[index])), note, link)
            if parent < 0:
                result = topic
            else:
                built[parent].append(topic)
        assert result is not None
        return result


@dataclass(frozen=True)
class ParsedMap:
    """A validated mind map: its format, outline (one root topic per sheet) and thumbnail."""

    format: str
    extension: str
    media_type: str
    sheets: tuple[Topic, ...]
    topic_count: int
    thumbnail_png: bytes | None


def describe_size(size: int) -> str:
    """Render a byte count for error messages, e.g. ``20 MiB`` or ``1500 bytes``."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    return f"{size} bytes"
