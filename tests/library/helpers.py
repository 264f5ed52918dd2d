"""Assertion helpers for the mind-map library tests."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from openplate.library import MapRejected, ParsedMap, UploadLimits, parse_upload

EXPECTED_STATUS = {
    "map_too_large": 413,
    "unsupported_map_format": 415,
    "invalid_map": 422,
    "unsafe_map": 422,
}
# Exception types that would mean a bug slipped through the last-resort handler.
PROGRAMMING_ERRORS = (TypeError, AttributeError, KeyError, IndexError, NameError, AssertionError)


def check_rejection(exc: MapRejected) -> None:
    """A rejection is well-formed: known code, matching status, sentence, no hidden bug."""
    assert exc.error in EXPECTED_STATUS, exc.error
    assert exc.status == EXPECTED_STATUS[exc.error]
    assert isinstance(exc.description, str) and exc.description.endswith(".")
    assert not isinstance(exc.__cause__, PROGRAMMING_ERRORS), repr(exc.__cause__)


def reject(
    data: bytes,
    error: str,
    *,
    limits: UploadLimits | None = None,
    filename: str | None = "upload.xmind",
) -> MapRejected:
    """Assert ``parse_upload`` rejects ``data`` with ``error`` and return the exception."""
    with pytest.raises(MapRejected) as info:
        if limits is None:
            parse_upload(filename, data)
        else:
            parse_upload(filename, data, limits)
    exc = info.value
    check_rejection(exc)
    assert exc.error == error, (exc.error, exc.description)
    return exc


def outline(parsed: ParsedMap) -> list[dict[str, object]]:
    return [sheet.to_json() for sheet in parsed.sheets]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["flip", "set", "delete", "insert", "truncate"]))
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=16))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "truncate":
            del data[position:]
    return bytes(data)
