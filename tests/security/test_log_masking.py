"""Secrets never reach the log, whatever carries them: a query parameter of any name, the path, a
header the log records (X-Request-ID), a message's arguments, an exception's text, an extra
field. Checked on the JSON formatter itself and by grepping a live server's log."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import uuid

import httpx

from openplate.logs import JsonFormatter
from tests.support.server import LiveServer
from tests.support.waiting import exited, wait_until


def _random_secret() -> str:
    """A random base64url secret, as any service might mint one (no prefix of ours)."""
    while True:
        value = secrets.token_urlsafe(32)
        if (any(c.isupper() for c in value) and any(c.islower() for c in value)
                and any(c.isdigit() for c in value)):
            return value


def _jwt() -> str:
    return "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9." + secrets.token_urlsafe(60) + "." + (
        secrets.token_urlsafe(64))


def test_the_formatter_masks_every_field() -> None:
    opaque, prefixed, jwt, hexkey = (_random_secret(), "opat_" + secrets.token_urlsafe(40),
                                     _jwt(), secrets.token_hex(32))
    try:
        raise ValueError(f"could not parse {opaque}")
    except ValueError:
        failure = sys.exc_info()
    record = logging.LogRecord("openplate.test", logging.ERROR, __file__, 1,
                               "rejected %s for %s", (prefixed, "opc_PublicClientId0123"), failure)
    record.fields = {"detail": {"token": jwt, "keys": [hexkey]}, "path": f"/x/{opaque}/y",
                     "request_id": "a1b2c3d4e5f60718", "count": 3}
    record.stack_info = f"Stack (most recent call last):\n  secret={hexkey}"
    line = JsonFormatter().format(record)
    entry = json.loads(line)  # still one valid JSON object
    for secret in (opaque, prefixed, jwt, hexkey, prefixed[5:]):
        assert secret not in line
    assert entry["msg"] == "rejected opat_[redacted] for opc_PublicClientId0123"
    assert entry["path"] == "/x/[redacted]/y" and entry["request_id"] == "a1b2c3d4e5f60718"
    assert entry["detail"] == {"token": "[redacted]", "keys": ["[redacted]"]}
    assert "ValueError: could not parse [redacted]" in entry["error"]
    assert entry["count"] == 3 and "[redacted]" in entry["stack"]


def _wait_for(live: LiveServer, marker: str) -> str:
    """The server's log, once its access log has recorded the request marked ``marker``."""
    wait_until(lambda: marker in live.log(), f"the access log to record the request {marker}",
               log=live.log, gone=exited(live.process))
    return live.log()


def test_a_live_servers_log_holds_no_secret(server: LiveServer) -> None:
    password, api_key, opaque = "correct horse battery staple", secrets.token_hex(20), _random_secret()
    prefixed, jwt = "opat_" + secrets.token_urlsafe(40), _jwt()
    sent_as_id = _random_secret()[:40]
    with httpx.Client(base_url=server.url, timeout=20) as http:
        # Query parameters under names nobody foresaw, and a token-shaped value under a shown one.
        http.get("/oauth/auth", params={
            "client_id": "opc_unknown", "response_type": "code", "my_api_key": api_key,
            "pw": password, "X-Upstream-Auth": opaque, "scope": prefixed})
        http.get("/signin", params={"next": f"/oauth/auth?session={opaque}",
                                    "login_hint": "ann@example.org"})
        # Secrets in paths, on the hot front and on the framework's routes.
        http.get(f"/mindmaps/{opaque}/files/map")
        http.get(f"/oauth/{prefixed}")
        http.get(f"/maps/{jwt}")
        http.post("/oauth/token?" + f"access_token={prefixed}", data={"grant_type": "x"})
        # A header the log records.
        http.get("/oauth/jwks", headers={"X-Request-ID": sent_as_id})
        # Error answers about secrets: an unknown refresh token, a bearer token that is no token.
        http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": prefixed,
                                        "client_id": "opc_unknown", "client_secret": opaque})
        http.get("/users/me", headers={"Authorization": f"Bearer {jwt}"})
        marker = f"done-{uuid.uuid4().hex[:12]}"
        http.get("/oauth/jwks", headers={"X-Request-ID": marker})
    log = _wait_for(server, marker)
    for secret in (password, "correct+horse", api_key, opaque, prefixed, prefixed[5:], jwt,
                   jwt.split(".")[1], sent_as_id, "ann@example.org", "ann%40example.org"):
        assert secret not in log, secret
    # What is harmless stays readable.
    assert "response_type=code" in log and "client_id=opc_unknown" in log
    assert "/mindmaps/[redacted]/files/map" in log


def test_a_device_code_is_masked_with_its_prefix_kept() -> None:
    """RFC 8628 device codes (``opdc_…``, stamped like every token) are bearer secrets too."""
    from openplate.oauth.tokens import DEVICE_CODE_PREFIX, Digester

    code = Digester(b"k").mint(DEVICE_CODE_PREFIX)
    record = logging.LogRecord("openplate.test", logging.INFO, __file__, 1, "polled with %s",
                               (code,), None)
    line = JsonFormatter().format(record)
    assert code[5:] not in line and json.loads(line)["msg"] == "polled with opdc_[redacted]"
