"""Mail that tells a user their account changed. Call ``notify_account_changed`` in the unit of
work that makes the change (a new password, e-mail address, second factor or passkey, a
deletion), so the notice is queued if and only if the change is committed."""

from __future__ import annotations

from datetime import UTC, datetime

from openplate.mail.letters import account_changed
from openplate.mail.queue import HasOutbox, send_later


def when_text(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%d %b %Y at %H:%M UTC")


async def notify_account_changed(
    store: HasOutbox, *, base_url: str, username: str, email: str, what: str, now: int,
) -> int:
    """Queue "Your Openplate account changed" to ``email``; ``what`` is one plain sentence said
    to the user, such as "Your password was changed." or "Two-step sign-in was turned off.".
    Returns the message's id."""
    return await send_later(store, account_changed(
        to=email, username=username, what=what.rstrip("."), when=when_text(now),
        security_url=base_url.rstrip("/") + "/account/security"), now=now)
