"""Disabling, enabling and deleting accounts and applications, and an operator's new password:
the rules the account pages and the ``openplate user`` / ``openplate app`` commands share.

Each function works inside the caller's unit of work (one transaction) and writes the security
log in it, so the change and its record commit together.

How a disabled account or application stops working at once, on every node
---------------------------------------------------------------------------
Disabling does two things in one transaction:

1. It sets ``disabled_at``, which every token check reads in the statement it already runs: the
   bearer check of the API, UserInfo and introspection joins the token's user and application
   by primary key (``_LIVE_ACCESS`` in store/oauth_repos.py), a refresh token's lookup does the
   same, and redeeming a code requires both enabled. Nothing caches these rows across requests
   (the one-second client cache only decides what the token endpoint answers; a token it let
   through is dead on arrival), so the next request on any node, SQLite or PostgreSQL, sees it.
2. It revokes the grants (and, for a user, deletes their sessions). So disabling ends those
   tokens for good: enabling again lets the user sign in and the application get tokens, but
   the tokens that existed before stay dead; users sign in, and applications ask, again.

The join alone would let enabling revive old tokens; the revocation alone would miss a grant
made on another node in the very moment of disabling (under PostgreSQL's read committed, the
revoking UPDATE does not see a row inserted by a transaction still open). Together they hold.

JWT access tokens (``OPENPLATE_ACCESS_TOKEN_FORMAT=jwt``) are checked the same way by Openplate
itself and by introspection (``active: false``), but a third party that validates them locally
with the JWKS cannot be told: such a token works there until it expires.
"""

from __future__ import annotations

from openplate.mail.notify import notify_account_changed
from openplate.store.account_repos import UserRecord
from openplate.store.admin_repos import DeletionPreview
from openplate.store.unit import Store

#: Who made a change, as the security log records it in ``detail["by"]``.
BY_OPERATOR = "operator"
BY_USER = "user"
#: The app itself, with its registration access token (RFC 7592 §2.3).
BY_REGISTRATION = "registration"


async def disable_user(store: Store, user: UserRecord, *, now: int) -> bool:
    """Disable the account and end its access; False (and nothing written) if it already was."""
    if not await store.admin.set_user_disabled(user_id=user.id, at=now):
        return False
    await store.admin.end_user_access(user_id=user.id, now=now)
    await store.second_factors.forget_waits(user_id=user.id)
    await store.events.append(kind="account.disabled", now=now, user_id=user.id,
                              detail={"by": BY_OPERATOR})
    return True


async def enable_user(store: Store, user: UserRecord, *, now: int) -> bool:
    """Let the account sign in again; False if it was not disabled."""
    if not await store.admin.set_user_disabled(user_id=user.id, at=None):
        return False
    await store.events.append(kind="account.enabled", now=now, user_id=user.id,
                              detail={"by": BY_OPERATOR})
    return True


async def disable_app(store: Store, app_pk: int, client_id: str, owner_id: int | None, *,
                      now: int) -> bool:
    """Disable the application and end every grant of it; False if it already was."""
    if not await store.admin.set_app_disabled(pk=app_pk, at=now):
        return False
    await store.admin.end_app_access(pk=app_pk, now=now)
    await store.events.append(kind="client.disabled", now=now, user_id=owner_id,
                              client_id=client_id, detail={"by": BY_OPERATOR})
    return True


async def enable_app(store: Store, app_pk: int, client_id: str, owner_id: int | None, *,
                     now: int) -> bool:
    """Let the application get tokens again; False if it was not disabled."""
    if not await store.admin.set_app_disabled(pk=app_pk, at=None):
        return False
    await store.events.append(kind="client.enabled", now=now, user_id=owner_id,
                              client_id=client_id, detail={"by": BY_OPERATOR})
    return True


async def set_password(store: Store, user: UserRecord, password_hash: str, *, now: int,
                       by: str, base_url: str) -> None:
    """A new password (hashed by the caller, outside the transaction): every grant ends (so
    every token), every remembered consent is forgotten and every browser is signed out; the
    user is told by mail (queued here, sent by the server's mail worker)."""
    await store.users.set_password(user_id=user.id, password_hash=password_hash, now=now)
    await store.consents.forget_user(user_id=user.id)
    await store.sessions.delete_for_user(user_id=user.id)
    # A sign-in half done with the old password (waiting for its second factor) ends too.
    await store.second_factors.forget_waits(user_id=user.id)
    await store.events.append(kind="password.changed", now=now, user_id=user.id,
                              detail={"by": by})
    what = ("The people who run this site set a new password for your account"
            if by == BY_OPERATOR else "Your password was changed")
    await notify_account_changed(store, base_url=base_url, username=user.username,
                                 email=user.email, what=what, now=now)


async def delete_account(store: Store, user: UserRecord, *, now: int, by: str) -> DeletionPreview:
    """Delete the account with its applications, maps, grants (so every code and token),
    consents and sessions; the security log keeps a record that outlives it. Returns what was
    deleted."""
    gone = await store.admin.deletion_preview(user_id=user.id)
    await store.events.append(kind="account.deleted", now=now, user_id=user.id, detail={
        "by": by, "username": user.username, "apps": len(gone.app_names),
        "maps": len(gone.map_titles), "allowed_apps": gone.allowed_apps})
    # Ended first, so that every application told of its sessions hears they are over
    # (Back-Channel Logout); the user's row would take them with it.
    await store.sessions.delete_for_user(user_id=user.id)
    await store.admin.delete_user(user_id=user.id)
    return gone


async def delete_app(store: Store, app_pk: int, client_id: str, owner_id: int | None, *, now: int,
                     by: str, name: str | None = None) -> None:
    """Delete the application: its client ID and secret stop working, every grant of it (so
    every code and token) and every user's consent go with it. Maps uploaded through it stay.
    Its ``name`` stays in the log, so the owner's security timeline can still say which app."""
    await store.applications.delete(pk=app_pk)
    detail: dict[str, object] = {"by": by}
    if name is not None:
        detail["name"] = name
    await store.events.append(kind="client.deleted", now=now, user_id=owner_id,
                              client_id=client_id, detail=detail)
