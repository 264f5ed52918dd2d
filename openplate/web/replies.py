"""Plain answers: a status, a body and headers, built without a framework response object.

The hot endpoints (see hot.py) hand a ``Reply`` straight to ASGI; the same replies become
Starlette responses where a FastAPI route needs one, so both paths answer byte for byte alike.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from starlette.responses import Response

Headers = tuple[tuple[bytes, bytes], ...]

JSON = (b"content-type", b"application/json")
NO_STORE: Headers = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))


class Reply(NamedTuple):
    status: int
    body: bytes
    headers: Headers


class Refusal(Exception):
    """A reply raised from inside a handler (a rejected bearer token, say), served as it is:
    by hot.py on the hot paths, by the app's exception handler on FastAPI's routes."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dump_json(data: object) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse writes it (one encoder, made once:
    ``json.dumps`` with options builds a new one per call)."""
    return _ENCODER.encode(data).encode()


def json_reply(data: object, *, status: int = 200, headers: Headers = NO_STORE) -> Reply:
    return Reply(status, dump_json(data), (JSON, *headers))


def text_headers(headers: dict[str, str] | None) -> Headers:
    """Header pairs from a str mapping (names lower-cased, as on the wire)."""
    if not headers:
        return ()
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1"))
                 for name, value in headers.items())


def to_response(reply: Reply) -> Response:
    """The reply as a Starlette response (for routes served through FastAPI)."""
    response = Response(reply.body, status_code=reply.status)
    raw = [(name, value) for name, value in response.raw_headers if name == b"content-length"]
    response.raw_headers = raw + list(reply.headers)
    return response
