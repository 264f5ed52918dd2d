"""The grant that a client's client-credentials tokens hang on, remembered per process.

Every client-credentials token used to get a grant row of its own: one more insert, and one
more row in two indexes, per token, though nothing ever used a grant per token (an access token
is revoked on its own, and there is no refresh token). Now each process keeps one grant per
client and scope and reuses it while it is live. It is made by this path only, so it is never a
grant a user gave in a browser (a refresh-token reuse there must not end the client's own
tokens, nor the other way round).

Before reusing the remembered grant, the store reads whether it is still there and unrevoked
(a primary-key read: revoking the application's access, deleting the application or the nightly
purge may have ended it, in any process). The read compares the grant's client, user, scope and
creation time too, since SQLite may give a deleted row's id to the next row. Its "last used"
time is written at most once a minute (``LAST_USED_EVERY``), so /account/apps shows it to the
minute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from openplate.oauth.models import LAST_USED_EVERY

Key = tuple[int, int, str]


class ClientGrants:
    """(client pk, owner id, scope) → (grant id, its ``created_at``, when its ``last_used_at``
    was last written)."""

    def __init__(self, *, size: int = 10_000) -> None:
        self.size = size
        self._entries: dict[tuple[int, int, str], tuple[int, int, int]] = {}

    def get(self, key: tuple[int, int, str]) -> tuple[int, int, int] | None:
        return self._entries.get(key)

    def put(self, key: tuple[int, int, str], grant_id: int, created_at: int,
            touched_at: int) -> None:
        if len(self._entries) >= self.size and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (grant_id, created_at, touched_at)

    def forget(self, key: tuple[int, int, str]) -> None:
        self._entries.pop(key, None)

    async def grant_for(
        self, key: Key, *, now: int, is_live: Callable[[int, int], Awaitable[bool]],
        create: Callable[[], Awaitable[int]], touch: Callable[[int], Awaitable[None]],
    ) -> int:
        """The remembered grant for ``key`` if the store says it is live (``is_live(grant id,
        created_at)``), touched at most once a minute; else a new one from ``create``. One rule
        for every store (SQL and memory)."""
        entry = self._entries.get(key)
        if entry is not None:
            grant_id, created_at, touched_at = entry
            if await is_live(grant_id, created_at):
                if now - touched_at >= LAST_USED_EVERY:
                    await touch(grant_id)
                    self.put(key, grant_id, created_at, now)
                return grant_id
            self.forget(key)
        grant_id = await create()
        self.put(key, grant_id, now, now)
        return grant_id
