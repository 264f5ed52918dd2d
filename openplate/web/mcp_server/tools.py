"""MCP 2025-11-25 Server Features §Tools: the tools the library offers, their input schemas
and annotations, and a strict reader of their arguments.

Arguments are read as a tool error that names the argument ("'limit' must be a whole
number"), never a crash: the SDK hands the handler whatever JSON the client sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mcp_types as types

from openplate.library.formats import FORMAT_NAMES
from openplate.store import map_fields
from openplate.store.map_cursors import MAX_CURSOR_CHARS
from openplate.store.map_records import ORDERS
from openplate.store.map_repos import MAX_PAGE
from openplate.web.routes.map_params import DEFAULT_LIMIT, MAX_QUERY_CHARS

#: The longest map id or map URL ``id`` takes.
MAX_ID_CHARS = 300
#: The most tags a tags list may hold before any is looked at (as PATCH /maps/{id}).
MAX_TAG_ITEMS = 50


class ToolRefused(Exception):
    """A tool call refused in plain words (an MCP tool error, ``isError``); ``error`` is the
    code the API would answer."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def _string(description: str, max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, "maxLength": max_length, **extra}


_ID = _string("The map's id (as search_maps gives it), or the URL of its page.", MAX_ID_CHARS)
_TITLE = _string("The map's title.", map_fields.MAX_TITLE_CHARS)
_DESCRIPTION = _string("A description shown on the map's page.", map_fields.MAX_DESCRIPTION_CHARS)
_TAGS = {"type": "array", "items": {"type": "string", "maxLength": 100},
         "maxItems": map_fields.MAX_TAGS,
         "description": f"At most {map_fields.MAX_TAGS} tags: letters, digits and '-'."}
_VISIBILITY = {"type": "string", "enum": list(map_fields.VISIBILITIES),
               "description": "public: listed and searchable; unlisted: anyone with the link; "
                              "private: only you."}
_CATEGORY = _string("A category's slug (see the library's categories).", 40)
_MARKDOWN = {"type": "string", "description": (
    "The outline as Markdown: the first heading is the root; later headings and nested list "
    "items ('-', '*', '1.') are its topics; other text is a note. Give this or outline.")}
_OUTLINE = {"type": "array", "minItems": 1, "description": (
    "The outline as JSON, in the shape get_map's 'outline' has: a list of sheets, each a topic "
    "{title, note?, link?, children?: [topic, ...]}. Give this or markdown."),
    "items": {"type": "object", "required": ["title"], "properties": {
        "title": {"type": "string"}, "note": {"type": "string"}, "link": {"type": "string"},
        "children": {"type": "array", "items": {"type": "object"}}}}}


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool: what tools/list shows of it, and what the caller's token needs."""

    tool: types.Tool
    #: The scope the tool needs (None: any valid token); ``user`` a token a user granted.
    scope: str | None
    user: bool


def _tool(name: str, title: str, description: str, schema: dict[str, Any], *,
          scope: str | None, user: bool, read_only: bool, destructive: bool = False,
          idempotent: bool = False) -> ToolSpec:
    annotations = types.ToolAnnotations(
        title=title, read_only_hint=read_only,
        destructive_hint=None if read_only else destructive,
        idempotent_hint=None if read_only else idempotent, open_world_hint=False)
    return ToolSpec(types.Tool(name=name, title=title, description=description,
                               input_schema=schema, annotations=annotations), scope, user)


TOOLS: dict[str, ToolSpec] = {spec.tool.name: spec for spec in (
    _tool("search_maps", "Search mind maps", (
        "Search the mind-map library: public maps by words in their title, description and "
        "topics, filtered by tag, author, format or category; or, with mine, your own maps, "
        "private and unlisted ones too (needs the maps scope). Answers a page of maps and a "
        "cursor for the next page."),
        _schema({
            "query": _string("Words to find; all must match, the last one as a prefix.",
                             MAX_QUERY_CHARS),
            "tag": _string("Only maps with this tag.", 100),
            "author": _string("Only this user's maps (a username).", 100),
            "format": {"type": "string", "enum": list(FORMAT_NAMES),
                       "description": "Only maps uploaded in this format."},
            "category": _string("Only maps in this category (its slug).", 100),
            "sort": {"type": "string", "enum": list(ORDERS), "description": (
                "newest (the default without a query), relevance (the default with one) or "
                "views.")},
            "mine": {"type": "boolean", "description": "Only your own maps, private and "
                                                       "unlisted included (needs maps)."},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                      "default": DEFAULT_LIMIT, "description": "Maps per page."},
            "cursor": _string("The next_cursor of the previous page.", MAX_CURSOR_CHARS),
        }), scope=None, user=False, read_only=True),
    _tool("get_map", "Read a mind map", (
        "Read one map: its details and its outline, as Markdown, JSON or both. A private map "
        "is its owner's alone (and needs the maps scope)."),
        _schema({"id": _ID, "format": {"type": "string", "enum": ["markdown", "json", "both"],
                                       "default": "both",
                                       "description": "How to give the outline."}},
                ("id",)), scope=None, user=False, read_only=True),
    _tool("create_map", "Create a mind map", (
        "Create a mind map in your library from an outline given as Markdown or as JSON. "
        "Answers its id and the URL of its page. Needs the maps scope."),
        _schema({"title": _TITLE, "description": _DESCRIPTION, "tags": _TAGS,
                 "visibility": _VISIBILITY, "category": _CATEGORY, "markdown": _MARKDOWN,
                 "outline": _OUTLINE}),
        scope="maps", user=True, read_only=False),
    _tool("update_map", "Change a mind map", (
        "Change one of your maps: its title, description, tags, visibility or category, and "
        "optionally its whole outline (markdown or outline replaces it). Needs the maps scope."),
        _schema({"id": _ID, "title": _TITLE, "description": _DESCRIPTION, "tags": _TAGS,
                 "visibility": _VISIBILITY,
                 "category": {"type": ["string", "null"], "maxLength": 40,
                              "description": "A category's slug, or null for none."},
                 "markdown": _MARKDOWN, "outline": _OUTLINE}, ("id",)),
        scope="maps", user=True, read_only=False, destructive=True, idempotent=True),
    _tool("delete_map", "Delete a mind map", (
        "Delete one of your maps for good: DESTRUCTIVE, it cannot be undone. The map, its file "
        "and its page are gone. Needs the maps scope."),
        _schema({"id": _ID}, ("id",)),
        scope="maps", user=True, read_only=False, destructive=True, idempotent=True),
    _tool("whoami", "Your account", (
        "Your Openplate account: user id, username, e-mail address and when you joined (as "
        "GET /users/me). Needs the account scope."),
        _schema({}), scope="account", user=True, read_only=True),
)}


class Args:
    """A tool call's arguments, read one by one; ``ToolRefused`` names the first one at fault.
    ``done`` refuses any argument the tool does not take."""

    def __init__(self, tool: str, raw: dict[str, Any] | None) -> None:
        self.tool = tool
        self.raw = raw or {}
        self.known = set(TOOLS[tool].tool.input_schema["properties"])

    def done(self) -> None:
        unknown = sorted(name for name in self.raw if name not in self.known)
        if unknown:
            shown = unknown[0][:40]
            raise ToolRefused("invalid_request", f"{self.tool} takes no argument {shown!r}; it "
                              "takes " + (", ".join(sorted(self.known)) or "none") + ".")

    def given(self, name: str) -> bool:
        return name in self.raw

    def text(self, name: str, *, max_chars: int, required: bool = False,
             nullable: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise ToolRefused("invalid_request", f"'{name}' is required.")
            if nullable or name not in self.raw:
                return None
            raise ToolRefused("invalid_request", f"'{name}' must be a string.")
        if not isinstance(value, str):
            raise ToolRefused("invalid_request", f"'{name}' must be a string.")
        if len(value) > max_chars:
            raise ToolRefused("invalid_request",
                              f"'{name}' is longer than {max_chars} characters.")
        return value

    def whole(self, name: str, *, low: int, high: int, default: int) -> int:
        value = self.raw.get(name, default)
        if type(value) is not int or not low <= value <= high:
            raise ToolRefused("invalid_request",
                              f"'{name}' must be a whole number from {low} to {high}.")
        return value

    def flag(self, name: str) -> bool:
        value = self.raw.get(name, False)
        if not isinstance(value, bool):
            raise ToolRefused("invalid_request", f"'{name}' must be true or false.")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw.get(name, default)
        if value not in choices:
            raise ToolRefused("invalid_request", f"'{name}' must be one of " + ", ".join(choices)
                              + ".")
        return str(value)

    def tags(self) -> list[str] | None:
        value = self.raw.get("tags")
        if value is None and "tags" not in self.raw:
            return None
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            raise ToolRefused("invalid_request", "'tags' must be a list of strings.")
        if len(value) > MAX_TAG_ITEMS:
            raise ToolRefused("invalid_request", f"a map has at most {map_fields.MAX_TAGS} tags.")
        return value

    def outline(self) -> list[Any] | None:
        value = self.raw.get("outline")
        if value is None and "outline" not in self.raw:
            return None
        if not isinstance(value, list) or not value:
            raise ToolRefused("invalid_request",
                              "'outline' must be a non-empty list of sheets (topics).")
        return value
