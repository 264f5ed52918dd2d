"""E-mail verification and changes of address, by one-time links mailed to the address itself.

- At sign-up, the new account's address gets a link; using it marks the address verified.
- A change of address (``request_change``) takes effect only when the link mailed to the *new*
  address is used: until then the old address stays the account's (it still receives mail,
  signs in and resets the password), so a typo or a stolen session cannot hand the account to
  someone else's mailbox. The old address is told at once, and told again when it changes.
- Links are random (256 bits), stored only as keyed digests, valid ``VERIFY_TTL`` seconds, used
  once; a new link (or a completed change) ends the older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openplate.mail import letters
from openplate.mail.notify import notify_account_changed
from openplate.mail.queue import send_later
from openplate.oauth.tokens import Digester
from openplate.store.account_repos import DuplicateUser, SqlUsers, UserRecord
from openplate.store.link_repos import SqlEmailVerifications
from openplate.store.mail_repos import SqlOutbox
from openplate.store.security_log import SqlSecurityLog

VERIFY_TTL = 24 * 3600
VERIFY_PREFIX = "opev_"
VERIFY_PATH = "/account/email/verify/"


class VerificationStore(Protocol):
    @property
    def users(self) -> SqlUsers: ...
    @property
    def email_verifications(self) -> SqlEmailVerifications: ...
    @property
    def outbox(self) -> SqlOutbox: ...
    @property
    def events(self) -> SqlSecurityLog: ...


@dataclass(frozen=True, slots=True)
class Verified:
    user_id: int
    email: str
    #: The address changed (it was not the account's before).
    changed: bool


def plausible_token(token: str) -> bool:
    return token.startswith(VERIFY_PREFIX) and 40 <= len(token) <= 100 and token.isascii()


async def mail_verification(store: VerificationStore, digester: Digester, *, user: UserRecord,
                            email: str, base_url: str, now: int) -> None:
    """Mail ``email`` a link that proves it is ``user``'s; older links of the user stop working."""
    await store.email_verifications.cancel_for_user(user_id=user.id, now=now)
    token = digester.mint(VERIFY_PREFIX)
    await store.email_verifications.create(digest=digester.digest(token), user_id=user.id,
                                           email=email, now=now, expires_at=now + VERIFY_TTL)
    await send_later(store, letters.verify_email(
        to=email, username=user.username, url=base_url.rstrip("/") + VERIFY_PATH + token,
        hours=VERIFY_TTL // 3600), now=now)


async def request_change(store: VerificationStore, digester: Digester, *, user: UserRecord,
                         new_email: str, base_url: str, now: int) -> None:
    """Mail the new address its link and tell the old one; nothing changes until the link is used."""
    await mail_verification(store, digester, user=user, email=new_email, base_url=base_url, now=now)
    await notify_account_changed(
        store, base_url=base_url, username=user.username, email=user.email, now=now,
        what=f"Someone asked to change your account's e-mail address to {new_email}. Nothing "
             "changes unless the link we sent to that address is opened")
    await store.events.append(kind="email.change_requested", now=now, user_id=user.id)


async def pending_address(store: VerificationStore, *, user: UserRecord, now: int) -> str | None:
    """The address a live link was mailed to, if it is not already the account's verified one."""
    email = await store.email_verifications.pending(user_id=user.id, now=now)
    if email is None or (email.lower() == user.email.lower() and user.email_verified):
        return None
    return email


async def verify(store: VerificationStore, digester: Digester, *, token: str, base_url: str,
                 now: int) -> Verified | None:
    """Use the link (once, atomically): its address becomes the account's, verified. None if the
    link is unknown, used or expired; DuplicateUser("email") if another account has the address."""
    if not plausible_token(token):
        return None
    link = await store.email_verifications.use(digest=digester.digest(token), now=now)
    if link is None:
        return None
    user = await store.users.by_id(link.user_id)
    if user is None:
        return None
    changed = link.email.lower() != user.email.lower()
    if (await store.users.email_owner(link.email)) not in (None, user.id):
        raise DuplicateUser("email")
    await store.users.set_verified_email(user_id=user.id, email=link.email, now=now)
    await store.email_verifications.cancel_for_user(user_id=user.id, now=now)
    await store.events.append(kind="email.verified", now=now, user_id=user.id)
    if changed:
        await notify_account_changed(
            store, base_url=base_url, username=user.username, email=user.email, now=now,
            what=f"Your account's e-mail address was changed to {link.email}")
    return Verified(user.id, link.email, changed)
