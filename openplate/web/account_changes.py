"""The one place a change to a user's sign-in methods is announced beyond the security log.

``account_changed`` is called, in the unit of work that made the change, for every enrolment or
removal of a second factor, a renewal of recovery codes, and every passkey added, renamed or
removed. The "your account changed" e-mail is to be sent from here (queued in the same unit of
work) once the mail queue exists; until then it does nothing more.
"""

from __future__ import annotations

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
    """MAIL HOOK: tell ``user_id`` by e-mail that ``change`` (a key of ``CHANGES``) happened.

    Not wired yet: the mail queue (issue 15, "E-mail") queues the message here, in ``store``'s
    unit of work, so the change and its mail are committed together.
    """
    assert change in CHANGES, change
