"""Throttled password checks and sign-ups, for the page routes in a line or two each.

**Password checks** (sign-in, and the current password on /account/password) take their attempt
*before* the argon2id check (``Counters.take``, atomic), so parallel guesses reach the hash at
most as often as the budget allows; a right password gives its attempt back. Which budget:

- a browser that holds this account's *device cookie* (set at each successful sign-in: an
  HMAC under the instance key over the account id and a random device id, HttpOnly) spends its
  own budget, ``signin:device:<device id>``, and nothing else. Strangers failing against the
  account (or from the same address) never touch it, so the owner of a known device is never
  locked out;
- any other browser spends the budget of its address, ``signin:ip:<address>``, and that of the
  login name it typed, ``signin:account:<name>`` (whether or not such an account exists).

**Sign-ups** take an attempt on ``signup:<address>`` before anything is looked up or hashed.
See docs/security.md, "Throttling", for the reasoning and the tests.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from openplate.accounts.service import password_matches
from openplate.store.account_repos import UserRecord
from openplate.throttling import Limit, Refused, Taken
from openplate.web.context import AppContext, client_ip, now

DEVICE_LIFETIME = 400 * 86_400  # the longest a browser keeps a cookie (RFC 6265bis §4.1.2.2)


def device_cookie_name(ctx: AppContext) -> str:
    return "__Host-openplate_device" if ctx.settings.secure_cookies else "openplate_device"


def _device_mac(ctx: AppContext, user_id: int, device: str) -> str:
    return ctx.digester.derive(f"{user_id}\x00{device}", purpose="device", prefix="", stamp=None)


def known_device(ctx: AppContext, request: Request, user: UserRecord | None) -> str | None:
    """The device id of this browser's cookie if it was set by a sign-in to ``user``."""
    cookie = request.cookies.get(device_cookie_name(ctx)) or ""
    device, _, mac = cookie.partition(".")
    if user is None or not device or len(cookie) > 100:
        return None
    if not hmac.compare_digest(mac.encode(), _device_mac(ctx, user.id, device).encode()):
        return None
    return device


def remember_device(response: Response, ctx: AppContext, user_id: int) -> None:
    """After a successful sign-in: this browser is a known device of ``user_id`` from now on."""
    device = secrets.token_urlsafe(16)
    response.set_cookie(
        device_cookie_name(ctx), f"{device}.{_device_mac(ctx, user_id, device)}",
        max_age=DEVICE_LIFETIME, path="/", secure=ctx.settings.secure_cookies, httponly=True,
        samesite="lax",
    )


def password_keys(
    ctx: AppContext, request: Request, *, login: str, user: UserRecord | None
) -> dict[str, Limit]:
    """The budgets a password attempt spends: its known device's, or its address's and name's."""
    device = known_device(ctx, request, user)
    if device is not None:
        return {f"signin:device:{device}": ctx.throttle.signin_per_device}
    return {f"signin:ip:{client_ip(request)}": ctx.throttle.signin_per_ip,
            f"signin:account:{login.lower()[:254]}": ctx.throttle.signin_per_account}


@dataclass
class PasswordAttempt:
    """One password check that may go ahead: its attempt is counted already."""

    ctx: AppContext
    taken: Taken
    purpose: str

    async def check(self, user: UserRecord | None, password: str) -> bool:
        """The argon2id check (an unknown user costs the same), counted in the metrics."""
        self.ctx.metrics.password_hashes.labels(self.purpose).inc()
        return await password_matches(user, password[:1024])

    async def succeeded(self) -> None:
        """The password was right: give the attempt back, so the owner never spends budget."""
        async with self.ctx.db.transaction() as store:
            await self.ctx.counters(store).give_back(self.taken)


async def password_attempt(
    ctx: AppContext, request: Request, *, login: str, user: UserRecord | None,
    purpose: str = "signin",
) -> PasswordAttempt | Refused:
    """Count a password attempt before it is checked; Refused if a budget is spent."""
    keys = password_keys(ctx, request, login=login, user=user)
    async with ctx.db.transaction(ip=client_ip(request)) as store:
        taken = await ctx.counters(store).take(keys, now=now())
    if isinstance(taken, Refused):
        return taken
    return PasswordAttempt(ctx, taken, purpose)


async def signup_attempt(ctx: AppContext, request: Request) -> Refused | None:
    """Count a sign-up from this address before the name is looked up or the password hashed;
    the refusal if the address has used its budget."""
    ip = client_ip(request)
    async with ctx.db.transaction(ip=ip) as store:
        taken = await ctx.counters(store).take({f"signup:{ip}": ctx.throttle.signup_per_ip},
                                                now=now())
    return taken if isinstance(taken, Refused) else None
