"""RFC 6238 TOTP (openplate/accounts/totp.py) against the RFC's appendix B test vectors, and the
acceptance window and replay rule of §5.2."""

from __future__ import annotations

import base64

import pytest

from openplate.accounts import totp

SHA1_SECRET = b"12345678901234567890"
SHA256_SECRET = b"12345678901234567890123456789012"
SHA512_SECRET = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B: (time, T in hex, TOTP, mode)
VECTORS = [
    (59, "0000000000000001", "94287082", "sha1"),
    (59, "0000000000000001", "46119246", "sha256"),
    (59, "0000000000000001", "90693936", "sha512"),
    (1111111109, "00000000023523EC", "07081804", "sha1"),
    (1111111109, "00000000023523EC", "68084774", "sha256"),
    (1111111109, "00000000023523EC", "25091201", "sha512"),
    (1111111111, "00000000023523ED", "14050471", "sha1"),
    (1111111111, "00000000023523ED", "67062674", "sha256"),
    (1111111111, "00000000023523ED", "99943326", "sha512"),
    (1234567890, "000000000273EF07", "89005924", "sha1"),
    (1234567890, "000000000273EF07", "91819424", "sha256"),
    (1234567890, "000000000273EF07", "93441116", "sha512"),
    (2000000000, "0000000003F940AA", "69279037", "sha1"),
    (2000000000, "0000000003F940AA", "90698825", "sha256"),
    (2000000000, "0000000003F940AA", "38618901", "sha512"),
    (20000000000, "0000000027BC86AA", "65353130", "sha1"),
    (20000000000, "0000000027BC86AA", "77737706", "sha256"),
    (20000000000, "0000000027BC86AA", "47863826", "sha512"),
]
SECRETS = {"sha1": SHA1_SECRET, "sha256": SHA256_SECRET, "sha512": SHA512_SECRET}


@pytest.mark.parametrize(("unix_time", "step_hex", "code", "mode"), VECTORS)
def test_rfc_6238_appendix_b(unix_time: int, step_hex: str, code: str, mode: str) -> None:
    assert totp.step_at(unix_time) == int(step_hex, 16)
    assert totp.totp(SECRETS[mode], unix_time, digits=8, digest=mode) == code


def test_rfc_4226_appendix_d() -> None:
    """The HOTP values of RFC 4226 Appendix D (the same secret, counters 0-9)."""
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
                "399871", "520489"]
    assert [totp.hotp(SHA1_SECRET, counter) for counter in range(10)] == expected


def test_a_code_is_accepted_one_step_either_side_and_no_further() -> None:
    now = 1_800_000_015
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.hotp(SHA1_SECRET, step + offset)
        assert totp.matching_step(SHA1_SECRET, code, now=now, after=None) == step + offset
    for offset in (-2, 2):
        code = totp.hotp(SHA1_SECRET, step + offset)
        assert totp.matching_step(SHA1_SECRET, code, now=now, after=None) is None


def test_a_step_used_once_is_never_accepted_again() -> None:
    now = 1_800_000_015
    step = totp.step_at(now)
    code = totp.hotp(SHA1_SECRET, step)
    assert totp.matching_step(SHA1_SECRET, code, now=now, after=step) is None
    assert totp.matching_step(SHA1_SECRET, code, now=now, after=step - 1) == step
    earlier = totp.hotp(SHA1_SECRET, step - 1)
    assert totp.matching_step(SHA1_SECRET, earlier, now=now, after=step) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "１２３４５６", "abcdef"])
def test_malformed_codes_match_nothing(typed: str) -> None:
    assert totp.matching_step(SHA1_SECRET, typed, now=1_800_000_015, after=None) is None


def test_spaces_and_dashes_are_ignored() -> None:
    now = 1_800_000_015
    code = totp.totp(SHA1_SECRET, now)
    assert totp.matching_step(SHA1_SECRET, f"{code[:3]} {code[3:]}", now=now, after=None)
    assert totp.matching_step(SHA1_SECRET, f"{code[:3]}-{code[3:]}", now=now, after=None)


def test_the_secret_as_text_and_as_a_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 20
    text = totp.grouped(secret)
    assert all(len(group) == 4 for group in text.split())
    assert base64.b32decode(text.replace(" ", "")) == secret
    uri = totp.provisioning_uri(secret, account="ana", issuer="Openplate")
    assert uri.startswith("otpauth://totp/Openplate%3Aana?secret=" + totp.encoded(secret))
    assert "issuer=Openplate" in uri and "period=30" in uri and "digits=6" in uri
