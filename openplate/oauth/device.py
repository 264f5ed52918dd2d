"""RFC 8628 §3.1–3.3: the device authorization endpoint, and the user's side of it (the user
code typed on /device, then allowed or denied).

The device code is a bearer secret of 256 random bits (``opdc_``…); the user code is short,
for a person to type: 8 letters of a 20-consonant alphabet (§6.1: no vowels, so no words; no
digits to confuse with letters), shown as ``XXXX-XXXX`` and compared without case, dashes or
spaces. Both are stored only as keyed digests. A user code has 20^8 (about 2^34.6) values; with
guesses throttled per user and per address (web/routes/device.py) and a lifetime of minutes,
§5.1's brute force has no real chance. The user always confirms on a page that names the app
(§5.4: a code sent by someone else must not be allowed by a click on a link).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from openplate.oauth.client_auth import ClientCall, authenticate
from openplate.oauth.errors import InvalidClient, UnauthorizedClient
from openplate.oauth.issuance import TokenContext
from openplate.oauth.models import DeviceRecord
from openplate.oauth.ports import OAuthStore
from openplate.oauth.scopes import DEFAULT_SCOPES, format_scope, requested_scope
from openplate.oauth.tokens import DEVICE_CODE_PREFIX, Digester

#: The grant type of RFC 8628 §3.4, as clients send it and ``clients.grant_types`` stores it.
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: §6.1: "a limited set of characters ... such as [BCDFGHJKLMNPQRSTVWXZ]".
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
#: Where the user goes (§3.2 verification_uri), under the issuer.
VERIFICATION_PATH = "/device"
#: Tries at a user code no live authorisation has yet (a clash has odds of about 1 in 10^10).
_FRESH_TRIES = 8


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def show_user_code(code: str) -> str:
    """``BCDFGHJK`` as people see it: ``BCDF-GHJK``."""
    half = USER_CODE_LENGTH // 2
    return code[:half] + "-" + code[half:]


def normalize_user_code(text: str | None) -> str | None:
    """The user code in ``text`` (any case; dashes and spaces ignored), or None if it cannot
    be one: §6.1, "the user code SHOULD be compared case-insensitively" and "Servers SHOULD
    ignore ... punctuation like dashes"."""
    if text is None or len(text) > 64:
        return None
    code = "".join(c for c in text if c not in "- \t\r\n").upper()
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


def user_code_digest(digester: Digester, code: str) -> str:
    """The keyed digest a (normalised) user code is stored and looked up as."""
    return digester.digest("user code\x00" + code)


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """RFC 8628 §3.2: the device authorization response."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int

    def to_json(self) -> dict[str, object]:
        return {
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete,
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


def verification_uri(issuer: str, user_code: str | None = None) -> str:
    base = issuer + VERIFICATION_PATH
    return base if user_code is None else f"{base}?user_code={show_user_code(user_code)}"


async def authorize_device(
    call: ClientCall, store: OAuthStore, ctx: TokenContext
) -> DeviceAuthorization:
    """§3.1–3.2: authenticate the client (as at the token endpoint, §3.1: "the client ... MUST
    authenticate"), check its scope, and store a new device authorisation."""
    params = call.params
    params.reject_duplicates()
    client = await authenticate(call.credentials(), store.clients, ctx.digester)
    if client.disabled:
        raise InvalidClient("This application is disabled.", detail="disabled application")
    if DEVICE_GRANT not in client.grant_types:
        raise UnauthorizedClient("This application may not use the device authorization grant. "
                                 "Its developer can allow it on the application's page.")
    scope = format_scope(requested_scope(params.get("scope")) or DEFAULT_SCOPES)
    policy = ctx.policy
    for _ in range(_FRESH_TRIES):
        user_code = new_user_code()
        user_digest = user_code_digest(ctx.digester, user_code)
        if not await store.device_codes.user_code_live(user_digest=user_digest, now=ctx.now):
            break
    device_code = ctx.digester.mint(DEVICE_CODE_PREFIX)
    await store.device_codes.create(
        device_digest=ctx.digester.digest(device_code), user_digest=user_digest,
        client_pk=client.pk, scope=scope, now=ctx.now, expires_at=ctx.now + policy.device_code_ttl,
        interval=policy.device_interval,
    )
    return DeviceAuthorization(
        device_code=device_code, user_code=show_user_code(user_code),
        verification_uri=verification_uri(ctx.issuer),
        verification_uri_complete=verification_uri(ctx.issuer, user_code),
        expires_in=policy.device_code_ttl, interval=policy.device_interval,
    )


class UserCodeRefused(Exception):
    """A user code that cannot be allowed or denied; the message is for the person typing it."""


WRONG_CODE = ("That code is not right. Check the code your device shows, and type its "
              "8 letters.")
EXPIRED_CODE = "That code has expired. Start again on your device to get a new one."
USED_CODE = "That code was already used. Start again on your device if it is still waiting."


async def enter_user_code(
    store: OAuthStore, digester: Digester, text: str, *, user_id: int, now: int
) -> DeviceRecord:
    """The pending device authorisation whose user code the signed-in ``user_id`` typed, now
    claimed by them (only they may decide it); ``UserCodeRefused`` saying why not.

    The caller counts the attempt against its budgets first: this is the guessing oracle."""
    code = normalize_user_code(text)
    if code is None:
        raise UserCodeRefused(WRONG_CODE)
    record = await store.device_codes.by_user_code(user_digest=user_code_digest(digester, code))
    if record is None:
        raise UserCodeRefused(WRONG_CODE)
    if record.expires_at <= now:
        raise UserCodeRefused(EXPIRED_CODE)
    if record.status != "pending":
        raise UserCodeRefused(USED_CODE)
    await store.device_codes.claim(device_id=record.id, user_id=user_id)
    return record


async def claimed(
    store: OAuthStore, device_id: int, *, user_id: int, now: int
) -> DeviceRecord:
    """The pending device authorisation ``user_id`` typed the code of, to confirm or decide."""
    record = await store.device_codes.by_id(device_id=device_id)
    if record is None or record.claimed_by != user_id:
        raise UserCodeRefused("Type the code your device shows first.")
    if record.expires_at <= now:
        raise UserCodeRefused(EXPIRED_CODE)
    if record.status != "pending":
        raise UserCodeRefused(USED_CODE)
    return record


async def decide(
    store: OAuthStore, record: DeviceRecord, *, user_id: int, allow: bool, now: int,
    auth_time: int | None, amr: str | None,
) -> None:
    """Allow or deny the device (§3.3), once: a second decision is refused."""
    if not await store.device_codes.decide(device_id=record.id, user_id=user_id, allow=allow,
                                           now=now, auth_time=auth_time, amr=amr):
        raise UserCodeRefused(USED_CODE)
