"""Second factors on the web side: checking a typed code (TOTP or recovery), throttled, and the
half-signed-in state of a browser that gave the right password and owes the second factor.

**Codes** are checked by ``check_code``: a counted attempt first (``Counters.take`` on
``second-factor:<user id>``, atomic, before anything is compared), then a TOTP code within one
step either side whose step is later than the last one used (recorded atomically, so a code is
accepted once however many requests carry it), else a recovery code (used atomically, once).
A right code gives its attempt back.

**Half-signed-in**: after the right password, an enrolled user's browser gets no session; it
gets a random cookie (HttpOnly, SameSite=Lax, ``__Host-`` over HTTPS) whose keyed digest names
a ``second_factor_waits`` row holding the user, where the sign-in goes on to, and the signed-out
browser's binding of a parked authorisation request. The row lives ``WAIT_TTL`` seconds and is
ended once (``DELETE … RETURNING``) when the second factor is given; nothing of it is in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts import totp
from openplate.accounts.second_factor import normalise_recovery_code, recovery_digest
from openplate.oauth.tokens import plausible
from openplate.store.second_factor_repos import SecondFactorWait
from openplate.store.unit import Store
from openplate.throttling import Refused
from openplate.web.context import AppContext, client_ip

#: Seconds a browser may take to give the second factor after the password.
WAIT_TTL = 300
WAIT_PREFIX = "op2f_"
#: RFC 8176 amr values.
OTP_AMR = ("pwd", "otp", "mfa")


def wait_cookie_name(ctx: AppContext) -> str:
    return "__Host-openplate-2fa" if ctx.settings.secure_cookies else "openplate_2fa"


async def enrolled(store: Store, user_id: int) -> bool:
    """Has the user turned on two-factor sign-in (a confirmed authenticator app)? Then a
    password alone never signs them in."""
    record = await store.second_factors.totp(user_id=user_id)
    return record is not None and record.confirmed


async def has_second_factor(store: Store, user_id: int) -> bool:
    """Can the user give a second factor: an authenticator app, or a passkey? (What an
    application asking for ``acr_values=urn:openplate:acr:mfa`` may ask of them.)"""
    return await enrolled(store, user_id) or await store.passkeys.count(user_id=user_id) > 0


# --- checking a code -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CodeResult:
    """What a typed code proved: ``method`` is "otp" or "recovery", or None (wrong)."""

    method: str | None
    #: Seconds to wait when the attempt was refused by the throttle.
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.method is not None


async def check_code(ctx: AppContext, request: Request, *, user_id: int, typed: str,
                     now: int, recovery: bool = True) -> CodeResult:
    """Check ``typed`` for ``user_id`` (counted first; see the module's docstring). A right code
    is used up in the same unit of work that accepts it, and the security log says so."""
    typed = typed[:64]
    ip = client_ip(request)
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take(
            {f"second-factor:{user_id}": ctx.throttle.second_factor_per_account}, now=now)
    if isinstance(taken, Refused):
        async with ctx.db.transaction(ip=ip) as store:
            await store.events.append(kind="second_factor.throttled", now=now, user_id=user_id)
        return CodeResult(None, retry_after=taken.retry_after)
    method = None
    async with ctx.db.transaction(ip=ip) as store:
        record = await store.second_factors.totp(user_id=user_id)
        secret = (ctx.totp_seal.open(record.secret_sealed, user_id=user_id)
                  if record is not None and record.confirmed else None)
        step = (totp.matching_step(secret, typed, now=now, after=record.last_step)
                if secret is not None and record is not None else None)
        if step is not None and await store.second_factors.use_totp_step(user_id=user_id,
                                                                         step=step):
            method = "otp"
        elif recovery and record is not None and record.confirmed:
            code = normalise_recovery_code(typed)
            if code is not None and await store.second_factors.use_recovery_code(
                    user_id=user_id, digest=recovery_digest(ctx.digester, user_id=user_id, code=code),
                    now=now):
                method = "recovery"
                left = await store.second_factors.recovery_codes_left(user_id=user_id)
                await store.events.append(kind="recovery_code.used", now=now, user_id=user_id,
                                          detail={"left": left})
        if method is None:
            await store.events.append(kind="second_factor.failure", now=now, user_id=user_id)
    if method is not None:
        async with ctx.db.transaction() as store:
            await ctx.counters(store).give_back(taken)
    return CodeResult(method)


# --- the half-signed-in state --------------------------------------------------------------------

async def start_wait(ctx: AppContext, store: Store, *, user_id: int, next_path: str,
                     browser_digest: str | None, now: int) -> str:
    """Remember that this browser gave ``user_id``'s password; the cookie value to set."""
    token = ctx.digester.mint(WAIT_PREFIX)
    await store.second_factors.start_wait(
        digest=ctx.digester.digest(token), user_id=user_id, next_path=next_path,
        browser_digest=browser_digest, now=now, expires_at=now + WAIT_TTL)
    return token


def wait_digest(ctx: AppContext, request: Request) -> str | None:
    """The keyed digest of this browser's half-signed-in cookie, if it has a well-formed one."""
    token = request.cookies.get(wait_cookie_name(ctx))
    if not plausible(token, WAIT_PREFIX):
        return None
    assert token is not None
    return ctx.digester.digest(token)


async def current_wait(ctx: AppContext, request: Request, store: Store, *,
                       now: int) -> SecondFactorWait | None:
    """This browser's live half-signed-in state, if it has one."""
    digest = wait_digest(ctx, request)
    return await store.second_factors.find_wait(digest=digest, now=now) if digest else None


async def end_wait(ctx: AppContext, request: Request, store: Store, *,
                   now: int) -> SecondFactorWait | None:
    """End this browser's half-signed-in state (once); what it was, or None if gone."""
    digest = wait_digest(ctx, request)
    return await store.second_factors.end_wait(digest=digest, now=now) if digest else None


def set_wait_cookie(response: Response, ctx: AppContext, token: str) -> None:
    response.set_cookie(wait_cookie_name(ctx), token, max_age=WAIT_TTL, path="/",
                        secure=ctx.settings.secure_cookies, httponly=True, samesite="lax")


def clear_wait_cookie(response: Response, ctx: AppContext) -> None:
    response.delete_cookie(wait_cookie_name(ctx), path="/", secure=ctx.settings.secure_cookies,
                           httponly=True, samesite="lax")
