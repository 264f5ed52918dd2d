"""The body of ``PATCH /maps/{id}``: a JSON object of the fields to change, each checked by the
rules of store/map_fields.py before anything is written."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from openplate.store import map_fields
from openplate.store.map_fields import InvalidField
from openplate.web.errors import error_reply
from openplate.web.replies import Refusal

FIELDS = ("title", "description", "tags", "visibility", "category")
_JSON_TYPES = ("application/json", "application/merge-patch+json")
#: A tags list longer than this is refused before any tag is looked at.
_MAX_TAG_ITEMS = 50

PATCH_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "title": {"type": "string", "minLength": 1,
                          "maxLength": map_fields.MAX_TITLE_CHARS},
                "description": {"type": "string", "maxLength": map_fields.MAX_DESCRIPTION_CHARS},
                "tags": {"type": "array", "maxItems": map_fields.MAX_TAGS,
                         "items": {"type": "string"}},
                "visibility": {"type": "string", "enum": list(map_fields.VISIBILITIES)},
                "category": {"type": ["string", "null"],
                             "description": "A category's slug; null for none."},
            },
        }}},
    },
}


def _check(name: str, value: Any) -> Any:
    """One field's value as ``SqlMaps.update`` takes it; ``InvalidField`` if it is refused."""
    if name == "tags":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise InvalidField("tags", "must be a list of strings")
        if len(value) > _MAX_TAG_ITEMS:
            raise InvalidField("tags", f"a map has at most {map_fields.MAX_TAGS} tags")
        return map_fields.normalise_tags(value)
    if name == "category":
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidField("category", "must be a category's slug or null")
        return map_fields.check_category_slug(value)
    if not isinstance(value, str):
        raise InvalidField(name, "must be a string")
    if name == "title":
        return map_fields.check_title(value)
    if name == "description":
        return map_fields.check_description(value)
    return map_fields.check_visibility(value)


async def read_changes(request: Request) -> dict[str, Any] | InvalidField | Refusal:
    """The changes the body asks for, or why it is refused (returned, not raised: the caller
    checks the token first)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in _JSON_TYPES:
        return Refusal(error_reply(415, "unsupported_media_type",
                                   "Send the changes as application/json."))
    body = await request.body()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return Refusal(error_reply(400, "invalid_request", "The body is not valid JSON."))
    if not isinstance(data, dict):
        return Refusal(error_reply(400, "invalid_request", "The body must be a JSON object."))
    unknown = [name for name in data if name not in FIELDS]
    if unknown:
        shown = unknown[0][:40]
        return InvalidField(shown, f"unknown field {shown!r}; the fields are " + ", ".join(FIELDS))
    if not data:
        return Refusal(error_reply(400, "invalid_request",
                                   "Send at least one of " + ", ".join(FIELDS) + "."))
    try:
        return check_changes(data)
    except InvalidField as refused:
        return refused


def check_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The changes of ``data`` (any of FIELDS; others are not looked at) as ``SqlMaps.update``
    takes them; ``InvalidField`` for the first one refused. Shared with the MCP tool
    ``update_map``."""
    return {name: _check(name, data[name]) for name in FIELDS if name in data}
