"""Read a ZIP upload: its entries decide between an XMind workbook and a MindManager map."""

from __future__ import annotations

from openplate.library.mindmanager import is_mindmanager, read_mindmanager
from openplate.library.model import MapRejected, ParsedMap, UploadLimits
from openplate.library.xmind import is_xmind, read_xmind
from openplate.library.zipsafe import SafeZip


def parse_archive(data: bytes, limits: UploadLimits) -> ParsedMap:
    """Parse a ZIP upload; a ZIP that is neither format is ``unsupported_map_format``."""
    with SafeZip(data, limits) as archive:
        if is_xmind(archive):
            return read_xmind(archive, limits)
        if is_mindmanager(archive):
            return read_mindmanager(archive, limits)
    raise MapRejected.unsupported(
        "The ZIP archive is neither an XMind workbook (content.json or content.xml) "
        "nor a MindManager map (Document.xml)."
    )
