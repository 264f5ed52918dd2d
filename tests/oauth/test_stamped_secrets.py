"""Stamped secrets: a minting time in front, so new digests land at the end of the index.

The stamp only orders rows; the secret is the 256 random bits after it. Secrets minted before
stamps existed (no stamp) must keep their plain digest, or every live token would stop working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

import pytest

from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    CLIENT_SECRET_PREFIX,
    PREFIXES,
    REFRESH_TOKEN_PREFIX,
    Digester,
    HmacSha256,
    new_secret,
    new_stamp,
)
from tests.support.waiting import wait_until

DIGESTER = Digester(b"k" * 32)
STAMPED = re.compile(r"(op[a-z]{2}_)([0-9a-f]{14})([A-Za-z0-9_\-]{43})")


def _plain(secret: str, key: bytes = b"k" * 32) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_minted_secrets_carry_a_stamp_of_now(prefix: str) -> None:
    before = time.time_ns() // 1000
    secret = new_secret(prefix)
    after = time.time_ns() // 1000
    shape = STAMPED.fullmatch(secret)
    assert shape is not None and shape.group(1) == prefix
    assert before <= int(shape.group(2), 16) <= after


def test_client_secrets_can_go_without_a_stamp() -> None:
    secret = new_secret(CLIENT_SECRET_PREFIX, stamped=False)
    assert re.fullmatch(r"opcs_[A-Za-z0-9_\-]{43}", secret)


def test_a_stamped_digest_keeps_the_stamp_in_front_of_the_keyed_part() -> None:
    secret = new_secret(ACCESS_TOKEN_PREFIX)
    digest = DIGESTER.digest(secret)
    assert len(digest) == 64 and re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest[:14] == secret[5:19]
    assert digest[14:] == _plain(secret)[:50]
    assert Digester(b"j" * 32).digest(secret)[14:] != digest[14:]  # keyed
    assert DIGESTER.matches(secret, digest)
    assert not DIGESTER.matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), digest)


def test_digests_of_secrets_minted_in_turn_sort_in_that_order() -> None:
    """Minted in different microseconds, they sort as minted (two in the same microsecond share
    a stamp, and their random parts order them)."""
    minted = []
    for _ in range(50):
        minted.append(new_secret(REFRESH_TOKEN_PREFIX))
        stamp = minted[-1][5:19]
        wait_until(lambda last=stamp: new_stamp() > last, f"the clock to pass the microsecond {stamp}",
                   poll=0)  # a microsecond: looking again at once is the quickest way
    digests = [DIGESTER.digest(s) for s in minted]
    assert digests == sorted(digests)


@pytest.mark.parametrize("secret", [
    "opat_" + "A" * 43,                       # minted before stamps: plain digest, as before
    "opat_" + "0123456789ABCD" + "A" * 43,    # not lowercase hex: no stamp
    "opat_" + "0123456789abcd" + "A" * 42,    # one character short
    "opat_" + "0123456789abcd" + "A" * 44,    # one too many
    "opat0_" + "123456789abcd" + "A" * 43,    # the prefix is not where a prefix goes
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",  # a JWT access token
])
def test_anything_else_keeps_the_plain_digest(secret: str) -> None:
    assert DIGESTER.digest(secret) == _plain(secret)


def test_derived_successors_are_stamped_with_the_stored_stamp() -> None:
    stamp = new_stamp()
    one = DIGESTER.derive("oprt_parent", purpose="refresh-refresh", prefix="oprt_", stamp=stamp)
    assert one == DIGESTER.derive("oprt_parent", purpose="refresh-refresh", prefix="oprt_",
                                  stamp=stamp)  # the same again: a retry gets the same token
    assert one[5:19] == stamp and DIGESTER.digest(one)[:14] == stamp
    other = DIGESTER.derive("oprt_parent", purpose="refresh-refresh", prefix="oprt_",
                            stamp="%014x" % (int(stamp, 16) + 1))
    assert other[19:] != one[19:]  # the stamp is part of what the key signs


def test_successors_of_rotations_before_stamps_keep_their_old_form() -> None:
    old = DIGESTER.derive("oprt_parent", purpose="refresh-access", prefix="opat_", stamp=None)
    mac = hmac.new(b"k" * 32, b"refresh-access\x00oprt_parent", hashlib.sha256).digest()
    assert old == "opat_" + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert DIGESTER.digest(old) == _plain(old)


def test_every_prefix_has_the_length_digest_expects() -> None:
    assert {len(p) for p in PREFIXES} == {5}


@pytest.mark.parametrize("key", [b"", b"k", b"k" * 32, b"k" * 63, b"k" * 64, b"k" * 65, b"\xff" * 200])
def test_the_keyed_digest_is_hmac_sha256(key: bytes) -> None:
    mac = HmacSha256(key)
    for message in (b"", b"opat_x", b"m" * 55, b"m" * 56, b"m" * 64, b"m" * 1000, "é".encode()):
        assert mac.digest(message) == hmac.digest(key, message, "sha256")
    secret = "opat_" + "A" * 43
    assert Digester(key).digest(secret) == hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def test_with_stamps_off_new_secrets_have_the_old_shape_and_are_still_found() -> None:
    off = Digester(b"k" * 32, stamps=False)
    secret = off.mint(ACCESS_TOKEN_PREFIX)
    assert re.fullmatch(r"opat_[A-Za-z0-9_\-]{43}", secret)
    assert off.digest(secret) == _plain(secret)
    assert off.successor_stamp() is None
    stamped = DIGESTER.mint(ACCESS_TOKEN_PREFIX)
    assert STAMPED.fullmatch(stamped) and DIGESTER.successor_stamp() is not None
    # Either form is found whichever way a node mints: the lookup depends on the secret alone.
    assert off.digest(stamped) == DIGESTER.digest(stamped)
