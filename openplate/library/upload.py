"""Entry point: detect an upload's format by content and parse it into a ParsedMap safely.

Detection, in order: a ZIP archive (XMind or MindManager, by its entries); else a document
that starts with ``<`` after an optional BOM and whitespace is XML (FreeMind or OPML, by its
root element); else UTF-8 text with a heading or a list item is a Markdown outline; anything
else is ``unsupported_map_format``. XML and ZIP content never reaches the Markdown reader.
"""

from __future__ import annotations

import codecs
import logging

from openplate.library.archives import parse_archive
from openplate.library.markdown import parse_markdown
from openplate.library.model import MapRejected, ParsedMap, UploadLimits, describe_size
from openplate.library.xmlmaps import parse_xml_map
from openplate.library.zipsafe import EMPTY_ZIP_MAGIC, ZIP_MAGIC

logger = logging.getLogger(__name__)

DEFAULT_LIMITS = UploadLimits()

_SNIFF_BYTES = 1024
_XML_WHITESPACE = b" \t\r\n"


def _looks_like_xml(data: bytes) -> bool:
    """True when the document starts with ``<`` after an optional BOM and whitespace."""
    head = data[:_SNIFF_BYTES]
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            text = head[len(bom) :].decode(encoding, errors="ignore")
            return text.lstrip(" \t\r\n").startswith("<")
    return head.lstrip(_XML_WHITESPACE).startswith(b"<")


def _parse(data: bytes, limits: UploadLimits) -> ParsedMap:
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return parse_archive(data, limits)
    if _looks_like_xml(data):
        return parse_xml_map(data, limits)
    return parse_markdown(data, limits)


def parse_upload(
    filename: str | None, data: bytes, limits: UploadLimits = DEFAULT_LIMITS
) -> ParsedMap:
    """Parse and validate an uploaded mind map, or raise :class:`MapRejected`.

    The format is detected from the content; ``filename`` is informational only (it may be
    missing or wrong). Nothing is written anywhere. This is CPU-bound: call it in a worker
    thread from async code.
    """
    if len(data) > limits.max_bytes:
        raise MapRejected.too_large(
            f"The uploaded file is larger than the {describe_size(limits.max_bytes)} limit."
        )
    if not data.strip():
        raise MapRejected.invalid("The uploaded file is empty.")
    try:
        return _parse(bytes(data), limits)
    except MapRejected:
        raise
    except RecursionError as exc:
        raise MapRejected.unsafe("The map is nested too deeply to process.") from exc
    except MemoryError as exc:
        raise MapRejected.too_large("The map is too large to process.") from exc
    except Exception as exc:  # noqa: BLE001 - last line of defence: never leak other errors
        logger.warning(
            "Unexpected error while parsing an uploaded map (filename=%r)", filename, exc_info=True
        )
        raise MapRejected.invalid("The map could not be read.") from exc
