"""SQL repositories for people and browsers: users, sessions and parked authorisation requests."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from openplate.oauth.models import UserProfile
from openplate.store.backchannel_repos import SqlBackchannelLogouts
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import auth_requests, grants, sessions, users


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    email: str
    password_hash: str
    created_at: int
    #: When the operator disabled the account; None while it is enabled.
    disabled_at: int | None = None
    #: When the current address was verified; None: not (yet).
    email_verified_at: int | None = None
    #: The name the account shows, if the user chose one (else the username stands in).
    display_name: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def shown_name(self) -> str:
        """The display name, or the username when there is none."""
        return self.display_name or self.username

    def public_json(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "email": self.email}


def user_from_row(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id, username=row.username, email=row.email,
        password_hash=row.password_hash, created_at=row.created_at, disabled_at=row.disabled_at,
        email_verified_at=row.email_verified_at, display_name=row.display_name,
    )


_USER_BY_ID = Prepared(select(users).where(users.c.id == bindparam("uid")))
# The statements of every page view and authorisation, prepared (see prepared.py).
_SESSION_INSERT = Prepared(sessions.insert().returning(sessions.c.id))
_SESSION_BY_DIGEST = Prepared(select(sessions).where(
    sessions.c.digest == bindparam("d"), sessions.c.expires_at > bindparam("now")))
_SESSION_FLASH = Prepared(
    update(sessions).where(sessions.c.id == bindparam("session_pk"))
    .values(flash=bindparam("flash"), flash_expires_at=bindparam("until")))
# Taking the notice is one compare-and-clear, so of two pages loaded at once only one shows it.
_SESSION_TAKE_FLASH = Prepared(
    update(sessions).where(sessions.c.id == bindparam("session_pk"), sessions.c.flash == bindparam("seen"))
    .values(flash=None, flash_expires_at=None))
# Written only when the last note is older than the interval (see SqlSessions.seen).
_SESSION_SEEN = Prepared(
    update(sessions)
    .where(sessions.c.id == bindparam("session_pk"),
           or_(sessions.c.last_seen_at.is_(None), sessions.c.last_seen_at <= bindparam("due")))
    .values(last_seen_at=bindparam("now"), ip=func.coalesce(bindparam("ip"), sessions.c.ip)))
_PARK = Prepared(auth_requests.insert())
_PARKED_COLUMNS = (auth_requests.c.session_id, auth_requests.c.client_pk, auth_requests.c.request,
                   auth_requests.c.created_at, auth_requests.c.signed_in_at,
                   auth_requests.c.browser_digest)
_FIND = Prepared(select(*_PARKED_COLUMNS).where(
    auth_requests.c.handle == bindparam("handle"), auth_requests.c.expires_at > bindparam("now")))
_TAKE = Prepared(
    delete(auth_requests)
    .where(
        auth_requests.c.handle == bindparam("handle"),
        auth_requests.c.session_id == bindparam("sid"),
        auth_requests.c.expires_at > bindparam("now"),
    )
    .returning(*_PARKED_COLUMNS)
)


#: The longest User-Agent kept with a session (longer ones are cut).
USER_AGENT_MAX = 256


class DuplicateUser(Exception):
    """The username or e-mail address is taken; ``field`` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class SqlUsers:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def taken(self, *, username: str, email: str) -> str | None:
        """Which of the two is already some account's ("username" or "email"), or None."""
        for field, column, value in (
            ("username", users.c.username_key, username.lower()),
            ("email", users.c.email_key, email.lower()),
        ):
            found = await self._conn.execute(select(users.c.id).where(column == value))
            if found.first() is not None:
                return field
        return None

    async def create(self, *, username: str, email: str, password_hash: str, now: int) -> UserRecord:
        field = await self.taken(username=username, email=email)
        if field is not None:
            raise DuplicateUser(field)
        try:
            result = await self._conn.execute(
                users.insert()
                .values(
                    username=username, username_key=username.lower(), email=email,
                    email_key=email.lower(), password_hash=password_hash, created_at=now,
                    password_changed_at=now,
                )
                .returning(users.c.id)
            )
        except IntegrityError:  # a concurrent sign-up took the name between check and insert
            raise DuplicateUser("username") from None
        return UserRecord(int(result.scalar_one()), username, email, password_hash, now)

    async def by_id(self, user_id: int) -> UserRecord | None:
        row = (await self._conn.execute(_USER_BY_ID, {"uid": user_id})).first()
        return user_from_row(row) if row is not None else None

    async def profile(self, user_id: int) -> UserProfile | None:
        user = await self.by_id(user_id)
        if user is None:
            return None
        return UserProfile(user.id, user.username, user.email, user.created_at, user.email_verified,
                           display_name=user.display_name)

    async def by_login(self, login: str) -> UserRecord | None:
        """Find by username or e-mail address, case-insensitively."""
        key = login.strip().lower()
        column = users.c.email_key if "@" in key else users.c.username_key
        row = (await self._conn.execute(select(users).where(column == key))).first()
        return user_from_row(row) if row is not None else None

    async def email_owner(self, email: str) -> int | None:
        """The id of the account whose address ``email`` is (any case), if any."""
        found = await self._conn.execute(select(users.c.id).where(users.c.email_key == email.lower()))
        row = found.first()
        return int(row.id) if row is not None else None

    async def set_verified_email(self, *, user_id: int, email: str, now: int) -> None:
        """``email`` is the account's address from now on, verified at ``now``; DuplicateUser if
        another account took it meanwhile."""
        try:
            await self._conn.execute(
                update(users).where(users.c.id == user_id)
                .values(email=email, email_key=email.lower(), email_verified_at=now))
        except IntegrityError:
            raise DuplicateUser("email") from None

    async def set_display_name(self, *, user_id: int, display_name: str | None) -> None:
        """Set (or with None, remove) the name the account shows."""
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(display_name=display_name))

    async def set_password(self, *, user_id: int, password_hash: str, now: int) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        # A new password ends every grant the account had given.
        await self._conn.execute(
            update(grants)
            .where(grants.c.user_id == user_id, grants.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    user_id: int | None
    csrf_token: str
    auth_time: int | None
    expires_at: int
    flash: str | None
    #: How the user signed in (RFC 8176 amr values); empty while anonymous.
    amr: tuple[str, ...] = ()
    created_at: int = 0
    #: When a page last saw it (at most ``SEEN_EVERY`` seconds stale; None before 0013).
    last_seen_at: int | None = None
    user_agent: str | None = None
    ip: str | None = None
    #: The OIDC sid of a signed-in session (Back-Channel Logout), random; None while anonymous.
    sid: str | None = None


class SqlSessions:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(
        self, *, digest: str, csrf_token: str, user_id: int | None, now: int, expires_at: int,
        amr: tuple[str, ...] = (), user_agent: str | None = None, ip: str | None = None,
    ) -> SessionRecord:
        """A new session; a signed-in one (``user_id``) records ``now`` as its sign-in time and
        ``amr`` as how the user signed in. ``user_agent`` is cut to ``USER_AGENT_MAX``
        characters, ``ip`` to 64."""
        signed_in = user_id is not None
        sid = secrets.token_urlsafe(18) if signed_in else None  # 24 characters, 144 bits
        agent = user_agent[:USER_AGENT_MAX] if user_agent else None
        address = ip[:64] if ip else None
        result = await self._conn.execute(_SESSION_INSERT, {
            "digest": digest, "csrf_token": csrf_token, "user_id": user_id, "created_at": now,
            "auth_time": now if signed_in else None, "expires_at": expires_at,
            "amr": " ".join(amr) if signed_in and amr else None,
            "user_agent": agent, "ip": address, "last_seen_at": now, "sid": sid,
        })
        return SessionRecord(
            int(result.scalar_one()), user_id, csrf_token, now if signed_in else None,
            expires_at, None, amr if signed_in else (), now, now, agent, address, sid,
        )

    async def by_digest(self, *, digest: str, now: int) -> SessionRecord | None:
        row = (await self._conn.execute(_SESSION_BY_DIGEST, {"d": digest, "now": now})).first()
        if row is None:
            return None
        live_flash = row.flash if (row.flash_expires_at or 0) > now else None
        return _session(row, live_flash)

    async def for_user(self, *, user_id: int, now: int) -> list[SessionRecord]:
        """The user's live sessions, the most recently seen first (without their notices)."""
        rows = await self._conn.execute(
            select(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.expires_at > now)
            .order_by(sessions.c.last_seen_at.desc().nulls_last(), sessions.c.id.desc()))
        return [_session(row, None) for row in rows]

    async def seen(self, *, session_id: int, now: int, every: int, ip: str | None) -> bool:
        """Note that the session was seen at ``now`` (from ``ip``), unless that was noted less
        than ``every`` seconds ago: one conditional UPDATE, so of several nodes seeing it at
        once at most one writes. True if this call wrote."""
        result = await self._conn.execute(_SESSION_SEEN, {
            "session_pk": session_id, "now": now, "due": now - every,
            "ip": ip[:64] if ip else None})
        return bool(result.rowcount == 1)

    # Every way a session is ended here first owes its clients a logout token (OIDC
    # Back-Channel Logout; store/backchannel_repos.py), in the same unit of work.

    async def _end(self, *conditions: ColumnElement[bool]) -> int:
        """Delete the sessions that ``conditions`` pick, queueing their logout tokens first;
        how many were deleted."""
        where = and_(*conditions)
        await SqlBackchannelLogouts(self._conn).queue_for_sessions(where, now=int(time.time()))
        result = await self._conn.execute(delete(sessions).where(where))
        return int(result.rowcount or 0)

    async def delete(self, *, session_id: int) -> None:
        await self._end(sessions.c.id == session_id)

    async def delete_of_user(self, *, user_id: int, session_id: int) -> bool:
        """End one of the user's sessions; False if it is not theirs (or already ended)."""
        return await self._end(sessions.c.id == session_id, sessions.c.user_id == user_id) == 1

    async def delete_others(self, *, user_id: int, keep: int, now: int) -> int:
        """End every live session of the user but ``keep``; how many ended (expired ones are
        left to the purge)."""
        return await self._end(sessions.c.user_id == user_id, sessions.c.id != keep,
                               sessions.c.expires_at > now)

    async def delete_for_user(self, *, user_id: int) -> None:
        await self._end(sessions.c.user_id == user_id)

    async def set_flash(self, *, session_id: int, flash: str, expires_at: int) -> None:
        """Keep a one-time notice with the session until ``take_flash`` or ``expires_at``."""
        await self._conn.execute(
            _SESSION_FLASH, {"session_pk": session_id, "flash": flash, "until": expires_at})

    async def take_flash(self, *, session_id: int, seen: str) -> bool:
        """Remove the notice ``seen`` in the session (as ``by_digest`` read it); True if this
        call removed it, so the caller may show it (a concurrent page load did not)."""
        result = await self._conn.execute(_SESSION_TAKE_FLASH, {"session_pk": session_id, "seen": seen})
        return bool(result.rowcount == 1)


def _session(row: Any, flash: str | None) -> SessionRecord:
    return SessionRecord(
        row.id, row.user_id, row.csrf_token, row.auth_time, row.expires_at, flash,
        tuple((row.amr or "").split()), row.created_at, row.last_seen_at, row.user_agent, row.ip,
        row.sid,
    )


@dataclass(frozen=True, slots=True)
class ParkedRequest:
    """An authorisation request kept server-side while the user signs in and decides."""

    session_id: int | None  # None until a browser session claims it
    client_pk: int
    request: str  # as openplate.oauth.interaction.serialise wrote it
    created_at: int
    #: When the user signed in, in the session that holds it, after it was parked.
    signed_in_at: int | None
    #: The signed-out browser it is bound to (keyed digest of its form cookie), if no session.
    browser_digest: str | None = None


def _parked(row: Any) -> ParkedRequest:
    return ParkedRequest(row.session_id, row.client_pk, str(row.request), row.created_at,
                         row.signed_in_at, row.browser_digest)


class SqlAuthRequests:
    """Parked authorisation requests, each bound to the browser session that started or claimed it."""

    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def park(
        self, *, handle: str, session_id: int | None, client_pk: int, request: str, now: int,
        expires_at: int, browser_digest: str | None = None,
    ) -> None:
        await self._conn.execute(_PARK, {
            "handle": handle, "session_id": session_id, "client_pk": client_pk,
            "request": request, "created_at": now, "expires_at": expires_at,
            "signed_in_at": None, "browser_digest": browser_digest,
        })

    async def find(self, *, handle: str, now: int) -> ParkedRequest | None:
        row = (await self._conn.execute(_FIND, {"handle": handle, "now": now})).first()
        return _parked(row) if row is not None else None

    async def claim(self, *, handle: str, session_id: int | None, browser_digest: str | None,
                    now: int) -> bool:
        """Bind a request no session holds to this session (or, for a signed-out browser, to its
        form cookie's digest); False if it is bound to another browser or was claimed first."""
        result = await self._conn.execute(
            update(auth_requests)
            .where(auth_requests.c.handle == handle, auth_requests.c.session_id.is_(None),
                   or_(auth_requests.c.browser_digest.is_(None),
                       auth_requests.c.browser_digest == browser_digest),
                   auth_requests.c.expires_at > now)
            .values(session_id=session_id, browser_digest=browser_digest)
            .returning(auth_requests.c.id)
        )
        return result.first() is not None

    async def take(self, *, handle: str, session_id: int, now: int) -> ParkedRequest | None:
        """Remove and return a parked request of this session, atomically: it is answered once."""
        row = (await self._conn.execute(
            _TAKE, {"handle": handle, "sid": session_id, "now": now}
        )).first()
        return _parked(row) if row is not None else None

    async def sign_in_for(self, *, handle: str | None, from_session: int | None,
                          browser_digest: str | None, to_session: int, signed_in_at: int) -> None:
        """A sign-in made a new session: the requests parked in the one it replaced, and the
        request ``handle`` if this signed-out browser holds it, move to it, marked as signed in
        for."""
        owned = [auth_requests.c.session_id == from_session] if from_session is not None else []
        if handle is not None and browser_digest is not None:
            owned.append(and_(auth_requests.c.handle == handle,
                              auth_requests.c.session_id.is_(None),
                              auth_requests.c.browser_digest == browser_digest))
        if not owned:
            return
        await self._conn.execute(
            update(auth_requests)
            .where(or_(*owned))
            .values(session_id=to_session, signed_in_at=signed_in_at, browser_digest=None)
        )
