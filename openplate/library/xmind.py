"""Read ``.xmind`` workbooks (ZIP archives) in either the JSON (Zen/2020+) or XML (8) format.

``content.json`` is preferred whenever present, because XMind Zen also writes a stub
``content.xml`` telling old versions to upgrade. The thumbnail is taken from
``Thumbnails/thumbnail.png`` (or ``.jpg``/``.jpeg``) and dropped if it is unusable.
"""

from __future__ import annotations

from openplate.library.formats import FORMATS, XMIND
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

FORMAT = FORMATS[XMIND]

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
    return parse_content_xml(archive.read(CONTENT_XML, limits.max_xml_bytes), limits, budget)


def read_thumbnail(
    archive: SafeZip, limits: UploadLimits, names: tuple[str, ...] = THUMBNAILS
) -> bytes | None:
    """The first of ``names`` that the archive has, as a validated PNG, or None."""
    for name in names:
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


def is_xmind(archive: SafeZip) -> bool:
    """True when the archive has an XMind content document."""
    return archive.has(CONTENT_JSON) or archive.has(CONTENT_XML)


def read_xmind(archive: SafeZip, limits: UploadLimits) -> ParsedMap:
    """Read an XMind workbook (``is_xmind`` is true); raise MapRejected if it is unacceptable."""
    budget = TopicBudget(limits)
    sheets = _read_sheets(archive, limits, budget)
    return ParsedMap(
        format=FORMAT.name,
        extension=FORMAT.extension,
        media_type=FORMAT.media_type,
        sheets=tuple(sheets),
        topic_count=budget.count,
        thumbnail_png=read_thumbnail(archive, limits),
    )
