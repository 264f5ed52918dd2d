"""A client's own web server for tests: serves client ID metadata documents by path over plain
http on 127.0.0.1, and counts how often each is fetched."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class DocumentHost:
    """A client's web server: serves documents by path, counts the fetches."""

    url: str
    documents: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    fetches: dict[str, int] = field(default_factory=dict)

    def serve(self, path: str, body: object, *, status: int = 200,
              headers: dict[str, str] | None = None) -> str:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.documents[path] = (status, {"content-type": "application/json", **(headers or {})},
                                raw)
        return self.url + path


@contextmanager
def serve_documents() -> Iterator[DocumentHost]:
    """Start the server; stop it on leaving."""
    served = DocumentHost("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            served.fetches[self.path] = served.fetches.get(self.path, 0) + 1
            status, headers, body = served.documents.get(self.path, (404, {}, b"{}"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
