"""Client records kept in memory for a second: every token, introspection and revocation
request authenticates its client, and reading and decoding the same row each time was a tenth of
a token request's work.

A record is kept for ``ttl`` seconds (1 by default) after it was read. A change made through
this process (new redirect URIs, a new secret, the application deleted) empties the cache at
once; one made by another process or node (several workers, the CLI) is seen by this one within
``ttl``. Unknown client ids are not kept: a caller spraying made-up ids cannot fill the cache,
and the failure throttle deals with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from openplate.oauth.models import Client


class ClientCache:
    """client_id → (Client, read at), bounded in size and age."""

    def __init__(self, *, ttl: float = 1.0, size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        #: Seconds, from any origin: a test moves its own instead of sleeping.
        self.clock = clock
        self._entries: dict[str, tuple[Client, float]] = {}

    def get(self, client_id: str) -> Client | None:
        entry = self._entries.get(client_id)
        if entry is None:
            return None
        client, read_at = entry
        if self.clock() - read_at >= self.ttl:
            del self._entries[client_id]
            return None
        return client

    def put(self, client: Client) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[client.client_id] = (client, self.clock())

    def clear(self) -> None:
        self._entries.clear()
