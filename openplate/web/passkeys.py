"""WebAuthn Level 2 ceremonies (through the PyPI ``webauthn`` package): passkey registration,
sign-in with a discoverable credential (no username), and a passkey as the second factor.

The relying-party ID is the host of the public URL (``OPENPLATE_PUBLIC_URL``) and the expected
origin its scheme, host and port: a passkey registered under one host does not work under
another, so operators set the public URL before users register passkeys. WebAuthn needs a
secure context: https, or http://localhost (a raw IP address is not a valid RP ID).

Every challenge is made here, kept server-side (``webauthn_challenges``) for ``CHALLENGE_TTL``
seconds, bound to the browser that asked (a keyed digest of its session, form cookie or
half-signed-in cookie) and to its purpose, and taken once, before the response is verified.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from openplate.store.account_repos import UserRecord
from openplate.store.passkey_repos import PasskeyRecord
from openplate.store.unit import Store
from openplate.web.context import AppContext

CHALLENGE_TTL = 300
#: A form field's limit (oauth/params.py MAX_VALUE_CHARS); an answer made with attestation
#: "none", as we ask, is about 1 kB.
MAX_CREDENTIAL_CHARS = 4096
RP_NAME = "Openplate"
#: What a challenge is for.
REGISTER, SIGN_IN, SECOND_FACTOR = "register", "signin", "second"


def rp_id(ctx: AppContext) -> str:
    return urlsplit(ctx.settings.base_url).hostname or "localhost"


def origin(ctx: AppContext) -> str:
    parts = urlsplit(ctx.settings.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def user_handle(ctx: AppContext, user_id: int) -> bytes:
    """The WebAuthn user handle: opaque (no account id or name in it), fixed per account."""
    return ctx.digester.derive(str(user_id), purpose="webauthn user handle", prefix="",
                               stamp=None).encode("ascii")


def binding(ctx: AppContext, kind: str, value: str) -> str:
    """The keyed digest binding a challenge to one browser (``kind``: session, form, wait)."""
    return ctx.digester.digest(f"webauthn\x00{kind}\x00{value}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CeremonyFailed(Exception):
    """The browser's answer does not prove what it should; the message is for a person."""


def _parsed(credential: str) -> tuple[dict[str, object], str, str]:
    """The credential's JSON, its id, and the challenge its clientDataJSON answers."""
    if not credential or len(credential) > MAX_CREDENTIAL_CHARS:
        raise CeremonyFailed("Your browser sent no passkey. Try again.")
    try:
        fields = json.loads(credential)
        response = fields["response"]
        client_data = json.loads(_unb64url(response["clientDataJSON"]))
        challenge = client_data["challenge"]
        credential_id = fields["id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise CeremonyFailed("Your browser's answer could not be read. Try again.") from None
    if not isinstance(challenge, str) or not isinstance(credential_id, str) or \
            len(challenge) > 128 or len(credential_id) > 1400:
        raise CeremonyFailed("Your browser's answer could not be read. Try again.")
    return fields, credential_id, challenge


# --- registration --------------------------------------------------------------------------------

async def registration_options(ctx: AppContext, store: Store, user: UserRecord, *,
                               bound_to: str, now: int) -> str:
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    existing = await store.passkeys.of_user(user_id=user.id)
    options = generate_registration_options(
        rp_id=rp_id(ctx), rp_name=RP_NAME, user_name=user.username,
        user_id=user_handle(ctx, user.id), user_display_name=user.username,
        timeout=CHALLENGE_TTL * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64url(p.credential_id))
                             for p in existing],
    )
    await store.passkeys.new_challenge(
        challenge=_b64url(options.challenge), purpose=REGISTER, binding=bound_to,
        user_id=user.id, now=now, expires_at=now + CHALLENGE_TTL)
    return str(options_to_json(options))


async def register(ctx: AppContext, store: Store, user: UserRecord, *, bound_to: str,
                   credential: str, name: str, now: int) -> int:
    """Verify the browser's answer to ``registration_options`` and store the passkey."""
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    fields, _credential_id, challenge = _parsed(credential)
    taken = await store.passkeys.take_challenge(challenge=challenge, purpose=REGISTER,
                                                binding=bound_to, now=now)
    if taken is None or taken.user_id != user.id:
        raise CeremonyFailed("This passkey request expired or was already used. Try again.")
    try:
        verified = verify_registration_response(
            credential=fields, expected_challenge=_unb64url(challenge),
            expected_rp_id=rp_id(ctx), expected_origin=origin(ctx))
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise CeremonyFailed("Your passkey could not be verified. Try again.") from None
    added = await store.passkeys.add(
        user_id=user.id, credential_id=_b64url(verified.credential_id),
        public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name,
        multi_device=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        now=now)
    if added is None:
        raise CeremonyFailed("This passkey is registered already.")
    return added


# --- authentication ------------------------------------------------------------------------------

async def authentication_options(ctx: AppContext, store: Store, *, purpose: str, bound_to: str,
                                 user_id: int | None, now: int) -> str:
    """Options for navigator.credentials.get(): any discoverable passkey of this site (sign-in),
    or one of ``user_id``'s (the second factor)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    allowed = ([PublicKeyCredentialDescriptor(id=_unb64url(p.credential_id))
                for p in await store.passkeys.of_user(user_id=user_id)]
               if user_id is not None else [])
    options = generate_authentication_options(
        rp_id=rp_id(ctx), timeout=CHALLENGE_TTL * 1000, allow_credentials=allowed,
        user_verification=(UserVerificationRequirement.REQUIRED if purpose == SIGN_IN
                           else UserVerificationRequirement.PREFERRED))
    await store.passkeys.new_challenge(
        challenge=_b64url(options.challenge), purpose=purpose, binding=bound_to,
        user_id=user_id, now=now, expires_at=now + CHALLENGE_TTL)
    return str(options_to_json(options))


@dataclass(frozen=True, slots=True)
class Proven:
    """Who the passkey proved, and how (RFC 8176 amr values)."""

    user_id: int
    passkey: PasskeyRecord
    methods: tuple[str, ...]


async def authenticate(ctx: AppContext, store: Store, *, purpose: str, bound_to: str,
                       credential: str, now: int) -> Proven:
    """Verify the browser's answer to ``authentication_options``. A sign-in needs the
    authenticator to have verified the user (a PIN or biometric: something known or been, with
    the key one has, so multi-factor); a second factor needs presence only."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    fields, credential_id, challenge = _parsed(credential)
    taken = await store.passkeys.take_challenge(challenge=challenge, purpose=purpose,
                                                binding=bound_to, now=now)
    if taken is None:
        raise CeremonyFailed("This passkey request expired or was already used. Try again.")
    passkey = await store.passkeys.by_credential_id(credential_id=credential_id)
    if passkey is None or (taken.user_id is not None and passkey.user_id != taken.user_id):
        raise CeremonyFailed("This passkey is not registered with Openplate. Remove it from "
                             "your device, or use your password.")
    try:
        verified = verify_authentication_response(
            credential=fields, expected_challenge=_unb64url(challenge), expected_rp_id=rp_id(ctx),
            expected_origin=origin(ctx), credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=purpose == SIGN_IN)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise CeremonyFailed("Your passkey could not be verified. Try again.") from None
    if not await store.passkeys.used(passkey_id=passkey.id, sign_count=verified.new_sign_count,
                                     now=now):
        raise CeremonyFailed("Your passkey could not be verified. Try again.")
    key = "swk" if passkey.multi_device else "hwk"
    if purpose == SIGN_IN:
        methods: tuple[str, ...] = (key, "user", "mfa")
    else:
        methods = ("pwd", key, "mfa")
    return Proven(passkey.user_id, passkey, methods)
