"""Bounded, in-memory ZIP reading that rejects zip bombs and suspicious archives.

Nothing is ever extracted to disk. Checks, in order:

* the central directory is walked *before* :mod:`zipfile` parses it, so an archive with
  hundreds of thousands of entries is refused without building that many ``ZipInfo`` objects;
* more than ``max_zip_entries`` entries, duplicate names, absolute or ``..`` entry names
  (backslashes count as separators for this check) -> ``unsafe_map``;
* the sum of declared uncompressed sizes above ``max_uncompressed_bytes`` -> ``unsafe_map``;
* an entry whose declared uncompressed size exceeds :data:`RATIO_CHECK_MIN_BYTES` (1 MiB) and
  whose compression ratio exceeds ``max_compression_ratio`` -> ``unsafe_map``. Small entries are
  exempt because tiny, highly repetitive JSON/XML legitimately compresses very well and
  cannot hurt;
* encrypted entries or compression methods other than stored/deflate -> ``invalid_map``
  (bzip2/lzma are refused because :mod:`zipfile` cannot bound their decompression).

Reads are bounded (at most ``limit + 1`` bytes, inflated in 256 KiB steps) and every byte
actually read is charged against the same ``max_uncompressed_bytes`` budget, so a lying
header cannot exhaust memory.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from types import TracebackType

from openplate.library.model import MIB, MapRejected, UploadLimits, describe_size

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
RATIO_CHECK_MIN_BYTES = MIB

_ALLOWED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_HEADER_SIZE = 46
_READ_CHUNK = 256 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
)


def _central_directory(data: bytes) -> tuple[int, int] | None:
    """Locate ``(start, size)`` of the central directory the way :mod:`zipfile` does."""
    eocd = len(data) - _EOCD.size
    if eocd < 0:
        return None
    if not (data.startswith(EMPTY_ZIP_MAGIC, eocd) and data.endswith(b"\x00\x00")):
        eocd = data.rfind(EMPTY_ZIP_MAGIC, max(len(data) - 0x10000 - _EOCD.size, 0))
        if eocd < 0 or eocd + _EOCD.size > len(data):
            return None
    size: int = _EOCD.unpack_from(data, eocd)[5]
    end = eocd
    locator = eocd - _ZIP64_LOCATOR.size
    record = locator - _ZIP64_EOCD.size
    if (
        record >= 0
        and data.startswith(b"PK\x06\x07", locator)
        and data.startswith(b"PK\x06\x06", record)
    ):
        size = _ZIP64_EOCD.unpack_from(data, record)[8]
        end = record
    start = end - size
    return (start, size) if start >= 0 else None


def count_entries(data: bytes, stop_after: int) -> int:
    """Count central-directory records, giving up once more than ``stop_after`` are seen."""
    located = _central_directory(data)
    if located is None:
        return 0  # not a ZIP zipfile can read; it will say so itself
    start, size = located
    end = min(start + size, len(data))
    pos, count = start, 0
    while pos + _CENTRAL_HEADER_SIZE <= end and count <= stop_after:
        if not data.startswith(b"PK\x01\x02", pos):
            break
        name_len, extra_len, comment_len = struct.unpack_from("<3H", data, pos + 28)
        pos += _CENTRAL_HEADER_SIZE + name_len + extra_len + comment_len
        count += 1
    return count


def _is_unsafe_name(name: str) -> bool:
    if "\x00" in name:
        return True
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        return True
    return ".." in normal.split("/")


class SafeZip:
    """A validated ZIP archive held in memory; use as a context manager."""

    def __init__(self, data: bytes, limits: UploadLimits) -> None:
        self._limits = limits
        if count_entries(data, limits.max_zip_entries) > limits.max_zip_entries:
            raise self._too_many_entries()
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except _READ_ERRORS as exc:
            raise MapRejected.invalid("The file is not a readable ZIP archive.") from exc
        try:
            self._infos = self._check(infos)
        except MapRejected:
            self._zip.close()
            raise
        self._remaining = limits.max_uncompressed_bytes

    def _too_many_entries(self) -> MapRejected:
        return MapRejected.unsafe(
            f"The archive has more than {self._limits.max_zip_entries} entries."
        )

    def _check(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        limits = self._limits
        if len(infos) > limits.max_zip_entries:
            raise self._too_many_entries()
        by_name: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            if _is_unsafe_name(info.orig_filename) or info.filename in by_name:
                raise MapRejected.unsafe(
                    "The archive contains an absolute, parent-relative or duplicate entry name."
                )
            by_name[info.filename] = info
            declared += info.file_size
            if (
                info.file_size > RATIO_CHECK_MIN_BYTES
                and info.file_size > limits.max_compression_ratio * info.compress_size
            ):
                raise MapRejected.unsafe(
                    "An archive entry is compressed more than "
                    f"{limits.max_compression_ratio}:1, which looks like a zip bomb."
                )
        if declared > limits.max_uncompressed_bytes:
            raise MapRejected.unsafe(
                "The archive would expand to more than "
                f"{describe_size(limits.max_uncompressed_bytes)}, which looks like a zip bomb."
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise MapRejected.invalid("Encrypted archive entries are not supported.")
            if info.compress_type not in _ALLOWED_METHODS:
                raise MapRejected.invalid("The archive uses an unsupported compression method.")
        return by_name

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def has(self, name: str) -> bool:
        return name in self._infos

    def declared_size(self, name: str) -> int:
        return self._infos[name].file_size

    def _bounded_read(self, info: zipfile.ZipInfo, most: int) -> bytes:
        """Read at most ``most`` bytes, inflating in small steps so memory tracks real data."""
        chunks: list[bytes] = []
        total = 0
        with self._zip.open(info) as handle:
            while total < most:
                chunk = handle.read(min(_READ_CHUNK, most - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        return b"".join(chunks)

    def read(self, name: str, max_size: int) -> bytes:
        """Read one entry fully, refusing more than ``max_size`` bytes (``map_too_large``)."""
        info = self._infos[name]
        if info.file_size > max_size:
            raise MapRejected.too_large(
                f"A file inside the map is larger than the {describe_size(max_size)} limit."
            )
        limit = min(max_size, self._remaining)
        try:
            content = self._bounded_read(info, limit + 1)
        except _READ_ERRORS as exc:
            raise MapRejected.invalid("A file inside the archive is corrupt.") from exc
        if len(content) > limit:
            raise MapRejected.unsafe(
                "The archive expands to more data than its headers declare."
            )
        self._remaining -= len(content)
        return content
