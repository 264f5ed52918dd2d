"""The library API's refusals, in the API's error shape: ``{"error", "error_description"}``,
plus ``field`` naming the parameter or field at fault."""

from __future__ import annotations

from openplate.web import replies
from openplate.web.errors import error_reply
from openplate.web.replies import Reply, json_reply

NO_MAP = "There is no map with this id."


def field_refusal(field: str, description: str, *, status: int = 400) -> Reply:
    """400 ``invalid_request`` naming ``field``."""
    return json_reply({"error": "invalid_request", "error_description": description,
                       "field": field}, status=status, headers=replies.NO_STORE)


def no_map() -> Reply:
    """404: no such map, or one the caller may not see (the two are never told apart)."""
    return error_reply(404, "not_found", NO_MAP)


def not_owner() -> Reply:
    return error_reply(403, "forbidden", "Only the map's owner may change or delete it.")
