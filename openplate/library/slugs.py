"""Public identifiers and URL slugs for shared maps."""

from __future__ import annotations

import re
import secrets
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def new_public_id() -> str:
    """A short, unguessable, URL-safe id (50 bits)."""
    return secrets.token_hex(5) + secrets.choice("abcdefghjkmnpqrstuvwxyz")


def slugify(title: str, *, max_chars: int = 60) -> str:
    """'Project Plan — Q3!' → 'project-plan-q3'; 'map' when nothing usable is left."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub("-", ascii_title.lower()).strip("-")[:max_chars].rstrip("-")
    return slug or "map"
