"""A real relying party's back-channel logout endpoint on a loopback port (OIDC Back-Channel
Logout §2.6): it takes each POSTed ``logout_token``, validates it with joserfc against the
server's published keys exactly as §2.6 tells an RP to, and keeps what it accepted. It can be
told to fail its first requests (500), to test the server's retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class Receiver:
    url: str
    issuer: str
    #: Validated logout tokens: (header, claims), in arrival order.
    accepted: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    #: Every request seen, as (path, status answered).
    seen: list[tuple[str, int]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    #: The raw logout tokens accepted, in arrival order (for other libraries to check again).
    raw: list[str] = field(default_factory=list)
    fail_first: int = 0
    #: Where the keys are read (default: the issuer's /oauth/jwks).
    jwks_url: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def validate(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """§2.6: the signature with the OP's keys, iss, aud, iat, the events member, sub or
        sid, and no nonce; the ``logout+jwt`` type."""
        jwks = self.jwks_url or self.issuer + "/oauth/jwks"
        keys = KeySet.import_key_set(httpx.get(jwks, timeout=10).json())
        decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256", "EdDSA"])
        claims = decoded.claims
        assert decoded.header.get("typ") == "logout+jwt", decoded.header
        assert claims["iss"] == self.issuer
        assert isinstance(claims["aud"], str) and claims["iat"] <= claims["exp"]
        assert claims["events"] == {EVENT: {}}
        assert "sub" in claims or "sid" in claims
        assert "nonce" not in claims and isinstance(claims["jti"], str)
        return decoded.header, claims

    def for_client(self, client_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [claims for _, claims in self.accepted if claims["aud"] == client_id]


@contextmanager
def logout_receiver(issuer: str, *, jwks_url: str | None = None) -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1 until the block ends."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            with receiver.lock:
                failing = receiver.fail_first > 0
                if failing:
                    receiver.fail_first -= 1
            status = 500
            if not failing:
                try:
                    form = parse_qs(body)
                    assert self.headers.get("content-type", "").startswith(
                        "application/x-www-form-urlencoded")
                    header, claims = receiver.validate(form["logout_token"][0])
                    with receiver.lock:
                        receiver.accepted.append((header, claims))
                        receiver.raw.append(form["logout_token"][0])
                    status = 200
                except Exception as error:  # noqa: BLE001 - an RP answers 400 to a bad token
                    with receiver.lock:
                        receiver.rejected.append(repr(error))
                    status = 400
            with receiver.lock:
                receiver.seen.append((self.path, status))
            self.send_response(status)
            self.send_header("cache-control", "no-store")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}", issuer,
                        jwks_url=jwks_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
