"""An application's logo: an uploaded PNG, checked as map thumbnails are, then re-encoded.

The checks, in order, each before any costlier step: at most ``LOGO_MAX_BYTES``; a PNG by its
signature; header dimensions within ``LOGO_MAX_SIDE`` on each side (read before any pixel is
decoded, so a small file that claims a huge image, a "PNG bomb", costs nothing);
``Image.verify()`` (chunk CRCs); then a full decode of a fresh copy. What is stored and served
is that decoded image written out again as PNG by Pillow: metadata chunks (text, EXIF, ICC,
animation) are dropped, and the bytes a browser is given were made here, not by the uploader.
The work is CPU-bound: callers run ``check_logo`` in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

from PIL import Image

from openplate.accounts.applications import InvalidApplication

LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 512
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})
FIELD = "logo"
LIMITS_TEXT = f"a PNG of at most {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE} pixels and {LOGO_MAX_BYTES // 1024} KiB"


@dataclass(frozen=True, slots=True)
class CheckedLogo:
    """A logo that passed every check: the re-encoded PNG and its SHA-256 (hex; the ETag)."""

    png: bytes
    digest: str
    width: int
    height: int


def _refuse(reason: str) -> InvalidApplication:
    return InvalidApplication(f"Logo: {reason} A logo is {LIMITS_TEXT}.", FIELD)


def _fits(image: Image.Image) -> bool:
    width, height = image.size
    return 0 < width <= LOGO_MAX_SIDE and 0 < height <= LOGO_MAX_SIDE


def check_logo(raw: bytes) -> CheckedLogo:
    """The logo to store, or ``InvalidApplication`` (field ``logo``) saying why not."""
    if not raw:
        raise _refuse("the file is empty.")
    if len(raw) > LOGO_MAX_BYTES:
        raise _refuse(f"this file is {len(raw) // 1024} KiB.")
    if not raw.startswith(PNG_SIGNATURE):
        raise _refuse("this file is not a PNG image.")
    # The first chunk must be IHDR (PNG §5.6): its size is read here, before Pillow sees a byte.
    if len(raw) < 24 or raw[12:16] != b"IHDR":
        raise _refuse("this file could not be read as a PNG image.")
    width, height = struct.unpack(">II", raw[16:24])
    if not (0 < width <= LOGO_MAX_SIDE and 0 < height <= LOGO_MAX_SIDE):
        raise _refuse(f"this image is {width}×{height} pixels.")
    try:
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            if not _fits(image):
                width, height = image.size
                raise _refuse(f"this image is {width}×{height} pixels.")
            image.verify()
        # verify() leaves the image unusable: decode a fresh copy to prove it is whole.
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            if not _fits(image):
                raise _refuse("this image's size could not be read.")
            image.load()
            decoded = image if image.mode in _MODES else image.convert(
                "RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
            out = io.BytesIO()
            decoded.save(out, format="PNG", optimize=False)
            width, height = decoded.size
    except InvalidApplication:
        raise
    except Exception:  # noqa: BLE001 - any decoder failure means the file is not a usable PNG
        raise _refuse("this file could not be read as a PNG image.") from None
    png = out.getvalue()
    if len(png) > 2 * LOGO_MAX_BYTES:  # re-encoding a palette image may grow it; bound it
        raise _refuse("this image is too large once decoded.")
    return CheckedLogo(png=png, digest=hashlib.sha256(png).hexdigest(), width=width, height=height)
