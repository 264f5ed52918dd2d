"""Every unsafe or invalid upload is refused with the right MapRejected code and status."""

from __future__ import annotations

import bz2
import json
import tracemalloc
import zipfile
import zlib
from typing import Any

import pytest

from openplate.library import MapRejected, UploadLimits, parse_upload
from openplate.library.zipsafe import count_entries
from tests.library.helpers import reject
from tests.support.mindmaps import (
    MIB,
    XMIND_NS,
    RawZipEntry,
    build_raw_zip,
    deflate,
    make_billion_laughs_mm,
    make_freemind,
    make_xmind_archive,
    make_xmind_json,
    make_xmind_xml,
    make_xxe_mm,
    make_zip_bomb,
    xmind_json_content,
    xmind_json_topic,
)

VALID_CONTENT = xmind_json_content([xmind_json_topic("Root", [xmind_json_topic("Child")])])


def zen(content: bytes, **extra: bytes) -> bytes:
    return make_xmind_archive({"content.json": content, **extra})


def raw_entry(name: str, content: bytes, **overrides: object) -> RawZipEntry:
    fields: dict[str, object] = {
        "name": name,
        "payload": deflate(content),
        "uncompressed_size": len(content),
        "crc": zlib.crc32(content),
    }
    fields.update(overrides)
    return RawZipEntry(**fields)  # type: ignore[arg-type]


# --- size and format -------------------------------------------------------------------------


def test_too_large_is_413_and_checked_before_anything_else() -> None:
    limits = UploadLimits(max_bytes=100)
    exc = reject(b"\x00" * 101, "map_too_large", limits=limits)
    assert exc.status == 413
    reject(make_billion_laughs_mm(), "map_too_large", limits=limits)
    reject(make_xmind_json(), "map_too_large", limits=limits)
    assert parse_upload(None, b"<map><node TEXT='ok'/></map>", limits).topic_count == 1


def test_default_upload_limit_is_20_mib() -> None:
    reject(b" " * (20 * MIB + 1), "map_too_large")


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty_upload_is_invalid(data: bytes) -> None:
    reject(data, "invalid_map")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
        b"Just some notes about my plan",
        json.dumps([{"rootTopic": {"title": "bare json"}}]).encode(),
        b"\x89PNG\r\n\x1a\n",
        b"<html><body>hi</body></html>",
        b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<xmap-content><sheet/></xmap-content>",
        b"<fm:map xmlns:fm='urn:x'><node TEXT='namespaced'/></fm:map>",
        b"<<<not xml",
        b"<",
        b"<?xml version='1.0' encoding='klingon'?><map/>",
    ],
)
def test_unrecognised_content_is_415(data: bytes) -> None:
    exc = reject(data, "unsupported_map_format", filename="map.mm")
    assert exc.status == 415


def test_zip_without_xmind_content_is_415() -> None:
    docx_like = make_xmind_archive(
        {"word/document.xml": b"<w:document/>", "[Content_Types].xml": b""}
    )
    reject(docx_like, "unsupported_map_format")


# --- ZIP structure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        make_xmind_json()[: len(make_xmind_json()) // 2],
        make_xmind_json()[:-10],
        b"PK\x03\x04" + b"\x00" * 200,
        b"PK\x03\x04garbage",
        b"PK\x05\x06" + b"\x00" * 18,  # an empty archive
    ],
    ids=["half", "no-end-record", "zeros", "garbage", "empty-archive"],
)
def test_corrupt_or_empty_zip_is_invalid(data: bytes) -> None:
    exc = reject(data, "invalid_map" if data[:4] == b"PK\x03\x04" else "unsupported_map_format")
    assert "PK" not in exc.description


def test_corrupt_entry_data_is_invalid() -> None:
    data = build_raw_zip([raw_entry("content.json", VALID_CONTENT, crc=12345)])
    reject(data, "invalid_map")
    data = build_raw_zip([raw_entry("content.json", VALID_CONTENT, payload=b"\xff" * 50)])
    reject(data, "invalid_map")


def test_too_many_entries_is_unsafe() -> None:
    files = {"content.json": VALID_CONTENT, **{f"resources/{i}.txt": b"x" for i in range(500)}}
    reject(make_xmind_archive(files), "unsafe_map")
    assert parse_upload(None, make_xmind_archive(dict(list(files.items())[:500]))).topic_count == 2
    reject(make_xmind_json(), "unsafe_map", limits=UploadLimits(max_zip_entries=3))


def test_huge_entry_count_is_refused_before_zipfile_parses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [RawZipEntry("a", b"", 0, 0, method=zipfile.ZIP_STORED)] * 50_000
    data = build_raw_zip(entries)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile.ZipFile must not be built for this archive")

    monkeypatch.setattr(zipfile, "ZipFile", forbidden)
    exc = reject(data, "unsafe_map")
    assert "more than 500 entries" in exc.description
    # The walk of the central directory gives up one record past the limit, not 50,000 later.
    assert count_entries(data, 500) == 501


def test_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = make_zip_bomb()
    assert len(bomb) < 200 * 1024
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def watched(self: zipfile.ZipFile, name: str | zipfile.ZipInfo, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", watched)
    exc = reject(bomb, "unsafe_map")
    assert "100:1" in exc.description  # the headers' ratio refused it
    assert opened == []  # no entry was opened, so not one byte was inflated


def test_declared_total_over_the_uncompressed_limit_is_unsafe() -> None:
    lenient_ratio = UploadLimits(max_compression_ratio=10**9)
    exc = reject(make_zip_bomb(), "unsafe_map", limits=lenient_ratio)
    assert "100 MiB" in exc.description
    # Many modest entries adding up past the limit.
    small = UploadLimits(max_uncompressed_bytes=50_000, max_compression_ratio=10**9)
    files = {"content.json": VALID_CONTENT, **{f"r/{i}": b"z" * 10_000 for i in range(5)}}
    reject(make_xmind_archive(files), "unsafe_map", limits=small)


def test_per_entry_compression_ratio_over_1_mib_is_unsafe() -> None:
    blob = bytes(5 * MIB)
    exc = reject(zen(VALID_CONTENT, **{"resources/blob.bin": blob}), "unsafe_map")
    assert "100:1" in exc.description
    # Below the 1 MiB threshold a very high ratio is harmless and accepted.
    parsed = parse_upload(None, zen(VALID_CONTENT, **{"resources/small.bin": bytes(MIB)}))
    assert parsed.topic_count == 2


def test_lying_size_header_cannot_blow_memory() -> None:
    expanded = b"[" + b" " * (64 * MIB)
    head = expanded[:1000]
    entry = raw_entry(
        "content.json", expanded, uncompressed_size=len(head), crc=zlib.crc32(head)
    )
    data = build_raw_zip([entry])
    tracemalloc.start()
    try:
        reject(data, "invalid_map")  # only the declared 1000 bytes are ever inflated
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB


def test_content_document_over_the_xml_limit_is_too_large() -> None:
    limits = UploadLimits(max_xml_bytes=len(VALID_CONTENT) - 1)
    exc = reject(zen(VALID_CONTENT), "map_too_large", limits=limits)
    assert exc.status == 413
    reject(make_freemind("x" * 100), "map_too_large", limits=UploadLimits(max_xml_bytes=50))


@pytest.mark.parametrize(
    "name",
    ["../content.json", "/etc/cron.d/evil", "C:/windows/evil", "a/../../b", "..\\..\\evil.exe",
     "\\absolute"],
)
def test_path_traversal_entry_names_are_unsafe(name: str) -> None:
    data = build_raw_zip([raw_entry("content.json", VALID_CONTENT), raw_entry(name, b"x")])
    reject(data, "unsafe_map")


def test_duplicate_entry_names_are_unsafe() -> None:
    decoy = xmind_json_content([xmind_json_topic("Decoy")])
    data = build_raw_zip(
        [raw_entry("content.json", VALID_CONTENT), raw_entry("content.json", decoy)]
    )
    reject(data, "unsafe_map")


def test_harmless_unusual_names_are_fine() -> None:
    data = build_raw_zip(
        [raw_entry("content.json", VALID_CONTENT), raw_entry("resources\\img..png", b"x")]
    )
    assert parse_upload(None, data).topic_count == 2


def test_encrypted_entries_are_invalid() -> None:
    data = build_raw_zip([raw_entry("content.json", VALID_CONTENT, flags=0x801)])
    exc = reject(data, "invalid_map")
    assert "ncrypted" in exc.description


def test_unsupported_compression_method_is_invalid() -> None:
    entry = raw_entry(
        "content.json", VALID_CONTENT, payload=bz2.compress(VALID_CONTENT), method=zipfile.ZIP_BZIP2
    )
    reject(build_raw_zip([entry]), "invalid_map")


def test_password_protected_xmind_is_reported_as_such() -> None:
    manifest = json.dumps(
        {"file-entries": {"content.json": {"encryption-data": {"algorithm-name": "AES/CBC"}}}}
    ).encode()
    exc = reject(zen(bytes(range(256)) * 4, **{"manifest.json": manifest}), "invalid_map")
    assert "Password-protected" in exc.description


# --- XML -----------------------------------------------------------------------------------


def test_billion_laughs_is_unsafe() -> None:
    reject(make_billion_laughs_mm(), "unsafe_map", filename="laughs.mm")


def test_xxe_is_unsafe_and_never_echoes_the_file() -> None:
    exc = reject(make_xxe_mm(), "unsafe_map", filename="xxe.mm")
    assert "passwd" not in exc.description and "root:" not in exc.description


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE map SYSTEM "http://127.0.0.1:1/evil.dtd"><map><node TEXT="x"/></map>',
        b"<!DOCTYPE map><map><node TEXT='harmless-looking DTD'/></map>",
        b'<!DOCTYPE map [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><map/>',
        b"<!DOCTYPE html><html></html>",
    ],
)
def test_any_dtd_is_unsafe(data: bytes) -> None:
    reject(data, "unsafe_map")


def test_dtd_inside_xmind_content_xml_is_unsafe() -> None:
    content = (
        f'<!DOCTYPE xmap-content [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<xmap-content xmlns="{XMIND_NS}"><sheet><topic><title>&xxe;</title></topic></sheet>'
        "</xmap-content>"
    ).encode()
    reject(make_xmind_archive({"content.xml": content}), "unsafe_map")


@pytest.mark.parametrize(
    "data",
    [
        b"<map><node TEXT='unclosed'></map>",
        b"<map><node TEXT='x'/></map><map/>",
        b"<map><node TEXT='&undefined;'/></map>",
        b"<map>\xff\xfe</map>",
        make_freemind("Root", ["a", "b"])[:-20],
    ],
)
def test_malformed_freemind_is_invalid(data: bytes) -> None:
    reject(data, "invalid_map", filename="broken.mm")


def test_malformed_xmind_content_xml_is_invalid() -> None:
    content = make_xmind_xml("Root", ["a"])
    broken = f'<xmap-content xmlns="{XMIND_NS}"><sheet><topic><title>x</sheet>'.encode()
    reject(make_xmind_archive({"content.xml": broken}), "invalid_map")
    assert parse_upload(None, content).topic_count == 2


def test_freemind_without_a_root_node_is_invalid() -> None:
    reject(b"<map version='1.0.1'><!-- nothing --></map>", "invalid_map")
    reject(b"<map><node TEXT='a'/><node TEXT='b'/></map>", "invalid_map")


def test_workbook_without_sheets_is_invalid() -> None:
    reject(zen(b"[]"), "invalid_map")
    empty_xml = f'<xmap-content xmlns="{XMIND_NS}"/>'.encode()
    reject(make_xmind_archive({"content.xml": empty_xml}), "invalid_map")
    no_root = f'<xmap-content xmlns="{XMIND_NS}"><sheet><title>S</title></sheet></xmap-content>'
    reject(make_xmind_archive({"content.xml": no_root.encode()}), "invalid_map")


# --- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"[{",
        b"\xff\xfe\xfa",
        b"not json",
        b'{"rootTopic": {"title": "x"}}',
        b'"sheet"',
        b"[1]",
        b'[{"title": "no root"}]',
        b'[{"rootTopic": []}]',
        b'[{"rootTopic": {"title": 42}}]',
        b'[{"rootTopic": {"title": null}}]',
        b'[{"rootTopic": {"title": "r", "children": []}}]',
        b'[{"rootTopic": {"title": "r", "children": {"attached": {"title": "x"}}}}]',
        b'[{"rootTopic": {"title": "r", "children": {"attached": ["x"]}}}]',
        b'[{"rootTopic": {"title": "r", "children": {"attached": [null]}}}]',
        b'[{"rootTopic": {"title": "r"}}, {"rootTopic": {"title": ["x"]}}]',
        b"[" + b"1" * 5000 + b"]",
    ],
)
def test_bad_content_json_is_invalid(content: bytes) -> None:
    reject(zen(content), "invalid_map")


def nested_json_topic(depth: int) -> dict[str, object]:
    topic: dict[str, object] = {"title": f"level {depth}"}
    for level in range(depth - 1, 0, -1):
        topic = {"title": f"level {level}", "children": {"attached": [topic]}}
    return topic


def test_depth_limit_is_inclusive_and_beyond_it_is_unsafe() -> None:
    ok = parse_upload(None, zen(json.dumps([{"rootTopic": nested_json_topic(200)}]).encode()))
    assert ok.topic_count == 200
    exc = reject(zen(json.dumps([{"rootTopic": nested_json_topic(201)}]).encode()), "unsafe_map")
    assert "200 levels" in exc.description


def test_pathologically_deep_json_is_unsafe_not_a_crash() -> None:
    reject(zen(b"[" * 200_000 + b"]" * 200_000), "unsafe_map")
    reject(zen(b'[{"rootTopic":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001 + b"]"), "unsafe_map")


def test_deep_freemind_and_xmind_xml_are_unsafe() -> None:
    limits = UploadLimits(max_depth=5)
    deep_mm = b"<map>" + b"<node TEXT='n'>" * 6 + b"</node>" * 6 + b"</map>"
    reject(deep_mm, "unsafe_map", limits=limits)
    ok_mm = b"<map>" + b"<node TEXT='n'>" * 5 + b"</node>" * 5 + b"</map>"
    assert parse_upload(None, ok_mm, limits).topic_count == 5
    junk = b"<map><node TEXT='r'>" + b"<div>" * 100_000 + b"</div>" * 100_000 + b"</node></map>"
    reject(junk, "unsafe_map")
    level = '<children><topics type="attached"><topic><title>t</title>'
    deep_xml = (
        f'<xmap-content xmlns="{XMIND_NS}"><sheet><topic><title>r</title>'
        + level * 5
        + "</topic></topics></children>" * 5
        + "</topic></sheet></xmap-content>"
    )
    reject(make_xmind_archive({"content.xml": deep_xml.encode()}), "unsafe_map", limits=limits)


def test_topic_limit_applies_across_formats_and_sheets() -> None:
    limits = UploadLimits(max_topics=6)
    children = [str(i) for i in range(5)]
    assert parse_upload(None, make_xmind_json("r", children), limits).topic_count == 6
    exc = reject(make_xmind_json("r", [*children, "one too many"]), "unsafe_map", limits=limits)
    assert "6 topics" in exc.description
    reject(make_xmind_json("r", ["a", "b", "c"], sheets=2), "unsafe_map", limits=limits)
    reject(make_xmind_xml("r", [*children, "x"]), "unsafe_map", limits=limits)
    reject(make_freemind("r", [*children, "x"]), "unsafe_map", limits=limits)


def test_map_rejected_shape_and_pickling() -> None:
    import pickle

    exc = MapRejected("unsafe_map", "Nope.", 422)
    assert (exc.error, exc.description, exc.status) == ("unsafe_map", "Nope.", 422)
    assert MapRejected("invalid_map", "Bad.").status == 422
    clone = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object
    assert (clone.error, clone.description, clone.status) == ("unsafe_map", "Nope.", 422)
