"""Validate an embedded map thumbnail with Pillow and return it as PNG bytes.

A thumbnail is optional decoration, so an unusable one is dropped (``None``) rather than
causing the whole map to be rejected. It must be a PNG or JPEG whose header dimensions are
within ``max_thumbnail_pixels`` (checked before any pixel data is decoded), that passes
``Image.verify()`` and that then decodes completely. A valid PNG is returned byte-for-byte;
a JPEG is re-encoded to PNG.
"""

from __future__ import annotations

import io

from PIL import Image

from openplate.library.model import UploadLimits

_FORMATS = ("PNG", "JPEG")
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})


def _fits(image: Image.Image, limits: UploadLimits) -> bool:
    width, height = image.size
    return 0 < width and 0 < height and width * height <= limits.max_thumbnail_pixels


def _to_png(image: Image.Image) -> bytes:
    if image.mode not in _PNG_MODES:
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def validate_thumbnail(raw: bytes, limits: UploadLimits) -> bytes | None:
    """Return PNG bytes for a usable thumbnail, or ``None`` if it should be dropped."""
    try:
        with Image.open(io.BytesIO(raw), formats=_FORMATS) as image:
            image_format = image.format
            if image_format not in _FORMATS or not _fits(image, limits):
                return None
            image.verify()
        # verify() leaves the image unusable, so decode a fresh copy to prove it is whole.
        with Image.open(io.BytesIO(raw), formats=[image_format]) as image:
            if not _fits(image, limits):
                return None
            image.load()
            return raw if image_format == "PNG" else _to_png(image)
    except Exception:  # noqa: BLE001 - any decoder failure just means "no thumbnail"
        return None
