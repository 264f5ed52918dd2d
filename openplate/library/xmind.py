"""Parse ``.xmind`` workbooks (ZIP archives) in either the JSON (Zen/2020+) or XML (8) format.

``content.json`` is preferred whenever present, because XMind Zen also writes a stub
``content.xml`` telling old versions to upgrade. The thumbnail is taken from
``Thumbnails/thumbnail.png`` (or ``.jpg``/``.jpeg``) and dropped if it is unusable.
"""

from __future__ import annotations

from openplate.library.model import (
    INVALID_MAP,
    MIB,
    UNSAFE_MAP,
    MapRejected,
    ParsedMap,
    Topic,
    UploadLimits,
)
from openplate.library.outline import TopicBudget
from openplate.library.thumbnails import validate_thumbnail
from openplate.library.xmind_json import parse_content_json
from openplate.library.xmind_xml import parse_content_xml
from openplate.library.zipsafe import SafeZip

FORMAT = "xmind"
EXTENSION = ".xmind"
MEDIA_TYPE = "application/vnd.xmind.workbook"

CONTENT_JSON = "content.json"
CONTENT_XML = "content.xml"
MANIFEST_JSON = "manifest.json"
THUMBNAILS = ("Thumbnails/thumbnail.png", "Thumbnails/thumbnail.jpg", "Thumbnails/thumbnail.jpeg")
_MAX_MANIFEST_BYTES = MIB


def _is_password_protected(archive: SafeZip) -> bool:
    """XMind Zen marks encrypted content in manifest.json with "encryption-data"."""
    if not archive.has(MANIFEST_JSON) or archive.declared_size(MANIFEST_JSON) > _MAX_MANIFEST_BYTES:
        return False
    try:
        return b"encryption-data" in archive.read(MANIFEST_JSON, _MAX_MANIFEST_BYTES)
    except MapRejected:
        return False


def _read_sheets(archive: SafeZip, limits: UploadLimits, budget: TopicBudget) -> list[Topic]:
    if archive.has(CONTENT_JSON):
        raw = archive.read(CONTENT_JSON, limits.max_xml_bytes)
        try:
            return parse_content_json(raw, limits, budget)
        except MapRejected as exc:
            if exc.error == INVALID_MAP and _is_password_protected(archive):
                raise MapRejected.invalid(
                    "Password-protected XMind maps are not supported."
                ) from exc
            raise
    if archive.has(CONTENT_XML):
        return parse_content_xml(archive.read(CONTENT_XML, limits.max_xml_bytes), limits, budget)
    raise MapRejected.unsupported(
        "The ZIP archive is not an XMind workbook (it has no content.json or content.xml)."
    )


def _read_thumbnail(archive: SafeZip, limits: UploadLimits) -> bytes | None:
    for name in THUMBNAILS:
        if not archive.has(name):
            continue
        try:
            raw = archive.read(name, limits.max_bytes)
        except MapRejected as exc:
            if exc.error == UNSAFE_MAP:
                raise
            return None  # too large or corrupt: drop the thumbnail, keep the map
        return validate_thumbnail(raw, limits)
    return None


def parse_xmind(data: bytes, limits: UploadLimits) -> ParsedMap:
    """Parse an XMind workbook; raise MapRejected if it is not an acceptable map."""
    budget = TopicBudget(limits)
    with SafeZip(data, limits) as archive:
        sheets = _read_sheets(archive, limits, budget)
        thumbnail = _read_thumbnail(archive, limits)
    return ParsedMap(
        format=FORMAT,
        extension=EXTENSION,
        media_type=MEDIA_TYPE,
        sheets=tuple(sheets),
        topic_count=budget.count,
        thumbnail_png=thumbnail,
    )
