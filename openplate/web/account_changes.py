"""The one place a change to a user's sign-in methods is announced beyond the security log.

``account_changed`` is called, in the unit of work that made the change, for every enrolment or
removal of a second factor, a renewal of recovery codes, and every passkey added, renamed or
removed. It queues the "your account changed" e-mail in that unit of work (so the change and its
mail are committed together); the caller wakes the mail worker once the block has committed
(``ctx.mail.wake()``).
"""

from __future__ import annotations

from openplate.mail.notify import notify_account_changed
from openplate.store.unit import Store
from openplate.web.context import AppContext

#: What ``change`` may be, with the words a message about it would use.
CHANGES = {
    "two_factor.enabled": "Two-factor sign-in was turned on.",
    "two_factor.disabled": "Two-factor sign-in was turned off.",
    "recovery_codes.renewed": "New recovery codes were made; the old ones no longer work.",
    "passkey.added": "A passkey was added.",
    "passkey.renamed": "A passkey was renamed.",
    "passkey.removed": "A passkey was removed.",
}


async def account_changed(ctx: AppContext, store: Store, *, user_id: int, change: str,
                          now: int) -> None:
    """Tell ``user_id`` by e-mail that ``change`` (a key of ``CHANGES``) happened."""
    what = CHANGES[change]
    user = await store.users.by_id(user_id)
    if user is None:  # deleted in this very unit of work: nobody to tell
        return
    await notify_account_changed(store, base_url=ctx.settings.base_url, username=user.username,
                                 email=user.email, what=what, now=now)
