"""Parsing and validation of uploaded mind-map files (XMind and FreeMind/Freeplane)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits

if TYPE_CHECKING:
    from openplate.library.upload import parse_upload

__all__ = ["parse_upload", "UploadLimits", "ParsedMap", "Topic", "MapRejected"]


def __getattr__(name: str) -> Any:
    # The parsers (XML, zip, images) load on the first upload, not when the server starts.
    if name == "parse_upload":
        from openplate.library.upload import parse_upload

        return parse_upload
    raise AttributeError(name)
