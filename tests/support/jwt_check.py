"""Verify our JWTs in tests with an independent implementation (joserfc) against the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet


def header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def verify(token: str, base_url: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(httpx.get(base_url + "/oauth/jwks").json())
    alg = header(token)["alg"]
    with warnings.catch_warnings():  # joserfc flags "EdDSA" as deprecated by RFC 9864; we test it
        warnings.simplefilter("ignore")
        decoded = jwt.decode(token, keys, algorithms=[alg])
    claims: dict[str, Any] = dict(decoded.claims)
    return claims


def at_hash(access_token: str, alg: str = "RS256") -> str:
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
