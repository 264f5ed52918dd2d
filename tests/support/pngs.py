"""PNG files for the logo checks: good ones, and ones made to hurt (a bomb, a broken CRC)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin


def png(width: int = 64, height: int = 64, *, colour: tuple[int, int, int] = (37, 87, 214),
        text: str | None = None) -> bytes:
    """A real PNG; ``text`` adds a tEXt chunk (metadata the server must drop)."""
    out = io.BytesIO()
    info = None
    if text is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", text)
    Image.new("RGB", (width, height), colour).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress (random pixels): its size grows with its area."""
    import os

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 100_000) -> bytes:
    """A few hundred bytes that claim a ``side``×``side`` image: 8-bit greyscale, and IDAT a
    deflate stream of zero rows that would inflate to side² bytes if anyone decoded it."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compressobj(9)
    body = rows.compress(b"\x00" * (side + 1) * 64) + rows.flush()  # the first rows only
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))


def broken_crc(data: bytes) -> bytes:
    """``data`` with one byte of the first IDAT chunk's payload flipped (its CRC now wrong)."""
    at = data.index(b"IDAT") + 6
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def jpeg(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()
