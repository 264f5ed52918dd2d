"""Parsing and validation of uploaded mind-map files (XMind and FreeMind/Freeplane)."""

from __future__ import annotations

from openplate.library.model import MapRejected, ParsedMap, Topic, UploadLimits
from openplate.library.upload import parse_upload

__all__ = ["parse_upload", "UploadLimits", "ParsedMap", "Topic", "MapRejected"]
