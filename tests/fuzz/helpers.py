"""Shared pieces for the fuzz tests: isolated client addresses, raw HTTP, a form-decoding oracle,
input strategies and checks of the answer's shape.

Throttling counts failures per client address, and every other test talks to the same session
server from 127.0.0.1. Fuzzing fails on purpose, hundreds of times, so each fuzz request leaves
from a loopback address of its own (all of 127.0.0.0/8 reaches the server on Linux): the fuzz
never throttles anybody else, and each example starts with clean per-address counters.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes, urlsplit

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.server import LiveServer

# Bounded: each property test sends at most this many examples (one to three requests each), so
# the whole module stays well under a minute on a busy two-core machine. For a deeper hunt, scale
# every budget up: OPENPLATE_FUZZ_SCALE=20 pytest tests/fuzz
SCALE = float(os.environ.get("OPENPLATE_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=max(1, int(40 * SCALE)),
    deadline=None,
    database=None,  # write nothing outside tests/fuzz (no .hypothesis/ in the project root)
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
#: Where an independent oracle knows the exact answer, more examples are worth their time.
FUZZ_ORACLE = settings(FUZZ, max_examples=max(1, int(60 * SCALE)))
#: Examples that hash passwords (argon2id, tens of milliseconds each).
FUZZ_SLOW = settings(FUZZ, max_examples=max(1, int(25 * SCALE)))

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A loopback source address nobody else in this test session uses."""
    n = next(_addresses)
    return f"127.77.{n // 250 % 250 + 1}.{n % 250 + 1}"


class Live:
    """The session's server with a short repr: Hypothesis prints every argument of a failing test,
    and LiveServer's repr holds the server's whole process environment."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        self.folder = server.folder

    def __repr__(self) -> str:
        return f"<openplate at {self.url}>"


def client(server: LiveServer | Live, *, address: str | None = None, **kwargs: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address or fresh_address())
    return httpx.Client(base_url=server.url, transport=transport, follow_redirects=False,
                        timeout=20, **kwargs)


# --- the server log ---------------------------------------------------------------------------

class LogWatch:
    """Fail the current example (so Hypothesis shrinks it) the moment the server logs a crash.

    Reads only what the log gained since the last look: it grows by a line per request.
    """

    def __init__(self, server: LiveServer | Live) -> None:
        self.path = server.folder / "server.log"
        self.mark = self.path.stat().st_size

    def check(self, what: object) -> None:
        with self.path.open("rb") as log:
            log.seek(self.mark)
            fresh = log.read()
        self.mark += len(fresh)
        text = fresh.decode("utf-8", "replace")
        assert "Traceback" not in text and "unhandled error" not in text, (
            f"the server crashed on {what!r:.2000}:\n{text[-3000:]}"
        )


# --- raw HTTP/1.1, for bytes no HTTP client library will send -------------------------------

@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(server: LiveServer | Live, request: bytes, *, address: str | None = None) -> RawResponse:
    """Send ``request`` byte for byte on a fresh connection; read the answer until close."""
    parts = urlsplit(server.url)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=20,
                                  source_address=(address or fresh_address(), 0)) as sock:
        sock.sendall(request)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, f"no HTTP answer to {request[:200]!r}: {data[:200]!r}"
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = status_line.split(" ", 2)
    assert version == "HTTP/1.1", status_line
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return RawResponse(int(status), headers, body)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


# --- an independent oracle for application/x-www-form-urlencoded (RFC 6749 §3.1, §3.2) ------
# The server's documented rules: UTF-8, no NUL, "parameters sent without a value MUST be treated
# as if they were omitted", none sent twice; and its limits (openplate.oauth.params).

MAX_FIELDS = 64
MAX_VALUE_CHARS = 4096
MAX_NAME_CHARS = 128


@dataclass(frozen=True)
class FormData:
    values: dict[str, str]
    duplicated: frozenset[str]


def decode_form(raw: bytes) -> FormData | None:
    """The parameters in ``raw``, or None if the server must refuse it as malformed."""
    parts = [p for p in raw.split(b"&") if p]
    if len(parts) > MAX_FIELDS:
        return None
    values: dict[str, str] = {}
    duplicated: set[str] = set()
    for part in parts:
        name_raw, _, value_raw = part.partition(b"=")
        decoded = []
        for piece in (name_raw, value_raw):
            try:
                text = unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return None
            if "\x00" in text:
                return None
            decoded.append(text)
        name, value = decoded
        if len(value) > MAX_VALUE_CHARS or len(name) > MAX_NAME_CHARS:
            return None
        if not value:
            continue
        if name in values:
            duplicated.add(name)
        else:
            values[name] = value
    return FormData(values, frozenset(duplicated))


def encode_pairs(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    return b"&".join(name + b"=" + value for name, value in pairs)


# --- strategies -------------------------------------------------------------------------------

# Everything httpx puts on the wire unchanged in a query string (it re-encodes space " # < >).
QUERY_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '"#<>')
MALFORMED_ESCAPES = [b"%", b"%z", b"%zz", b"%f", b"%fg", b"%%", b"%E0%A4%A", b"%ff", b"%fe%ff",
                     b"%c0%af", b"%ed%a0%80", b"%f4%90%80%80", b"%00", b"a%00b", b"%C3", b"%80"]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def encoded_text(text: st.SearchStrategy[str] = TEXT) -> st.SearchStrategy[bytes]:
    """Well-formed percent-encoded UTF-8 of ``text`` (always readable)."""
    return text.map(lambda s: quote(s, safe="").encode("ascii"))


def junk_component() -> st.SearchStrategy[bytes]:
    """A query or form component: well-formed, malformed, NUL, invalid UTF-8, long, or plain junk."""
    return st.one_of(
        encoded_text(),
        st.binary(max_size=24).map(lambda b: quote_from_bytes(b, safe="").encode("ascii")),
        st.sampled_from(MALFORMED_ESCAPES),
        st.lists(st.sampled_from(MALFORMED_ESCAPES), min_size=1, max_size=4).map(b"".join),
        st.text(QUERY_SAFE, max_size=30).map(str.encode),
        st.sampled_from([4095, 4096, 4097, 9000]).map(lambda n: b"a" * n),
        st.sampled_from([4096, 4097]).map(lambda n: b"%C3%A9" * n),  # 4096 vs 4097 characters
    )


def raw_body_bytes() -> st.SearchStrategy[bytes]:
    """A request body of anything: binary, encoded pairs with junk, raw non-ASCII, NUL, CR LF."""
    pair = st.tuples(junk_component(), junk_component()).map(lambda p: p[0] + b"=" + p[1])
    return st.one_of(
        st.binary(max_size=600),
        st.lists(pair, max_size=8).map(b"&".join),
        st.lists(st.one_of(pair, st.binary(max_size=12)), max_size=6).map(b"&".join),
    )


CONTENT_TYPES = [
    None, "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
    "Application/X-WWW-Form-URLEncoded;charset=latin-1", "application/x-www-form-urlencoded;;;",
    " application/x-www-form-urlencoded ", "application/json", "text/plain", "multipart/form-data",
    "multipart/form-data; boundary=x", "application/xml", "*/*", "", ";", "application/x-www-form",
    "application/x-www-form-urlencodedX", "application/octet-stream",
]


def header_value(max_size: int = 60) -> st.SearchStrategy[bytes]:
    """Any header value an HTTP/1.1 client may send: visible ASCII, obs-text (0x80-0xFF), inner
    spaces and tabs (h11 refuses control characters and leading or trailing whitespace)."""
    octets = st.sampled_from([9, 32, *range(0x21, 0x7F), *range(0x80, 0x100)])
    return st.lists(octets, max_size=max_size).map(bytes).map(lambda b: b.strip(b" \t"))


def content_type() -> st.SearchStrategy[bytes | None]:
    return st.one_of(
        st.sampled_from(CONTENT_TYPES).map(lambda s: s.strip().encode() if s is not None else None),
        header_value(40),
    )


# --- shape checks -----------------------------------------------------------------------------

def error_body(response: httpx.Response | RawResponse, errors: Iterable[str]) -> dict[str, Any]:
    """A JSON error in the RFC 6749 §5.2 shape whose ``error`` is one of ``errors``."""
    status = response.status if isinstance(response, RawResponse) else response.status_code
    content = response.body if isinstance(response, RawResponse) else response.content
    assert response.headers.get("content-type", "").startswith("application/json"), (
        status, dict(response.headers), content[:300])
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("error") in set(errors), body
    assert isinstance(body.get("error_description"), str) and body["error_description"], body
    return body


def is_html(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def describe(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url} -> {response.status_code} " \
           f"{response.headers.get('content-type')} {response.text[:300]!r}"


PRINTABLE = string.ascii_letters + string.digits
