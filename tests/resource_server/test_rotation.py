"""Signing-key rotation on a real server: old tokens keep validating, new kids are fetched once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from openplate.resource_server import TokenValidator
from tests.resource_server.conftest import _assert_clean
from tests.resource_server.support import Relay, decode_part, new_env
from tests.support import server as server_module
from tests.support.server import LiveServer, start_server

JWT = {"OPENPLATE_ACCESS_TOKEN_FORMAT": "jwt"}


def _rotate(live: LiveServer) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-m", "openplate.cli", "keys", "rotate", "--force",
                           "--json"],
                          env=live.env, cwd=live.folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def _published(live: LiveServer, alg: str = "RS256") -> set[str]:
    """The kids of the published keys of ``alg`` (JWT access tokens: the default, RS256)."""
    keys = httpx.get(live.url + "/oauth/jwks", timeout=10).json()["keys"]
    return {k["kid"] for k in keys if k["alg"] == alg}


def test_rotation_keeps_old_tokens_valid_and_finds_new_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder: dict[str, LiveServer] = {"live": start_server(tmp_path, extra_env=JWT)}
    # Restart on the same port: the issuer (and so every token's iss) is the server's URL.
    port = urlsplit(holder["live"].url).port
    monkeypatch.setattr(server_module, "free_port", lambda: port)
    env = new_env(holder["live"])

    def rotate_and_restart() -> dict[str, str]:
        result = _rotate(holder["live"])  # the running server would reload within 60 s;
        holder["live"].stop()            # a restart makes it immediate
        _assert_clean(holder["live"])
        holder["live"] = start_server(tmp_path, extra_env=JWT)
        env.live = holder["live"]
        return result

    async def main() -> None:
        relay = Relay()
        async with httpx.AsyncClient(transport=relay, timeout=20) as client:
            # No minimum between refetches: the refetch of an unknown kid below must not hang
            # on how long the restarts took (test_key_cache.py holds the interval to a clock).
            validator = TokenValidator(env.url, http_client=client, jwks_cache_ttl=3600,
                                       jwks_min_refetch_interval=0)
            first = await asyncio.to_thread(env.access_token)
            kid1 = decode_part(first, 0)["kid"]
            await validator.validate(first)
            assert relay.counts["/oauth/jwks"] == 1
            (kid_next,) = await asyncio.to_thread(_published, env.live) - {kid1}

            one = await asyncio.to_thread(rotate_and_restart)
            assert one["retired"] == kid1 and one["current"] == kid_next
            second = await asyncio.to_thread(env.access_token)
            assert decode_part(second, 0)["kid"] == kid_next
            # The key was published as "next" before it signed: no refetch needed.
            await validator.validate(second)
            await validator.validate(first)
            assert relay.counts["/oauth/jwks"] == 1

            two = await asyncio.to_thread(rotate_and_restart)
            third = await asyncio.to_thread(env.access_token)
            kid3 = decode_part(third, 0)["kid"]
            assert kid3 == two["current"] and kid3 not in (kid1, kid_next)
            await validator.validate(third)  # unknown kid: one refetch
            assert relay.counts["/oauth/jwks"] == 2
            for token in (first, second, third):  # retired keys stay published
                await validator.validate(token, ("maps",))
            assert relay.counts["/oauth/jwks"] == 2
            assert {kid1, kid_next, kid3, two["next"]} <= await asyncio.to_thread(_published, env.live)

        async with TokenValidator(env.url) as fresh:
            for token in (first, second, third):
                assert (await fresh.validate(token)).subject == str(env.account.id)

    try:
        asyncio.run(main())
    finally:
        holder["live"].stop()
    _assert_clean(holder["live"])

