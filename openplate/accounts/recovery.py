"""Password recovery: a one-time link, mailed, that lets its holder choose a new password.

The link's token is random (256 bits), stored only as its keyed digest, valid ``RESET_TTL``
seconds and usable once; using it ends every session and grant of the account, like a password
change. Framework-free: the pages are in web/routes/recovery.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from openplate.mail import letters
from openplate.mail.notify import notify_account_changed
from openplate.mail.queue import send_later
from openplate.oauth.tokens import Digester
from openplate.store.account_repos import SqlSessions, SqlUsers
from openplate.store.consent_repos import SqlConsents
from openplate.store.link_repos import ResetLink, SqlPasswordResets
from openplate.store.mail_repos import SqlOutbox
from openplate.store.second_factor_repos import SqlSecondFactors
from openplate.store.security_log import SqlSecurityLog

RESET_TTL = 30 * 60
RESET_PREFIX = "oppr_"
RESET_PATH = "/password/reset/"


class RecoveryStore(Protocol):
    @property
    def users(self) -> SqlUsers: ...
    @property
    def password_resets(self) -> SqlPasswordResets: ...
    @property
    def outbox(self) -> SqlOutbox: ...
    @property
    def consents(self) -> SqlConsents: ...
    @property
    def sessions(self) -> SqlSessions: ...
    @property
    def events(self) -> SqlSecurityLog: ...
    @property
    def second_factors(self) -> SqlSecondFactors: ...


@dataclass(frozen=True, slots=True)
class Reset:
    """A link just used: whose password it set, and where they were going."""

    user_id: int
    next_path: str | None


def plausible_token(token: str) -> bool:
    return token.startswith(RESET_PREFIX) and 40 <= len(token) <= 100 and token.isascii()


async def mail_reset_link(store: RecoveryStore, digester: Digester, *, login: str, base_url: str,
                          next_path: str | None, now: int) -> bool:
    """If ``login`` names an account, queue a reset link to its address (in this unit of work);
    whether it did. The caller must answer the same either way."""
    user = await store.users.by_login(login) if 0 < len(login) <= 254 else None
    if user is None:
        return False
    token = digester.mint(RESET_PREFIX)
    await store.password_resets.create(digest=digester.digest(token), user_id=user.id, now=now,
                                       expires_at=now + RESET_TTL, next_path=next_path)
    await send_later(store, letters.password_reset(
        to=user.email, username=user.username, url=base_url.rstrip("/") + RESET_PATH + token,
        minutes=RESET_TTL // 60), now=now)
    await store.events.append(kind="password.reset_requested", now=now, user_id=user.id)
    return True


async def reset_link(store: RecoveryStore, digester: Digester, *, token: str,
                     now: int) -> ResetLink | None:
    """The link's record if it can still be used (shown as the form for the new password)."""
    if not plausible_token(token):
        return None
    return await store.password_resets.find(digest=digester.digest(token), now=now)


async def reset_password(store: RecoveryStore, digester: Digester, *, token: str,
                         password_hash: str, base_url: str, now: int) -> Reset | None:
    """Use the link (once, atomically) to set the new password, and do what a password change
    does: every grant ends, every remembered consent is forgotten, every session of the account
    ends; the address the link was mailed to counts as verified; then log it and tell the user by
    mail. None: the link is unknown, used or expired."""
    if not plausible_token(token):
        return None
    link = await store.password_resets.use(digest=digester.digest(token), now=now)
    if link is None:
        return None
    user = await store.users.by_id(link.user_id)
    if user is None:
        return None
    await store.users.set_password(user_id=user.id, password_hash=password_hash, now=now)
    if not user.email_verified:  # the link reached this address: it is the user's
        await store.users.set_verified_email(user_id=user.id, email=user.email, now=now)
    await store.consents.forget_user(user_id=user.id)
    await store.sessions.delete_for_user(user_id=user.id)
    # A sign-in half done with the old password (waiting for its second factor) ends too.
    await store.second_factors.forget_waits(user_id=user.id)
    await store.events.append(kind="password.reset", now=now, user_id=user.id)
    await notify_account_changed(store, base_url=base_url, username=user.username,
                                 email=user.email, what="Your password was reset with a link "
                                 "sent to this address", now=now)
    return Reset(user.id, link.next_path)
