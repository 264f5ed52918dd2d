"""Counting a map page's views: once per viewer and day, without a write per view.

A viewer is named by a keyed digest (``Digester.derive``, purpose ``map viewer``) of the day and
of who they are: the signed-in account, else the browser's session (a row this server found for
its cookie), else the address and User-Agent together. A cookie that names no session is not
trusted (anyone could send a new one with each request), and no cookie or session is ever made
for counting. Mixing the day in means one viewer's digests of two days cannot be linked.

The repository counts a viewer once a day (``SqlMaps.record_view``, atomic), but asking it costs
a write even when the view was counted already. So each process remembers the (map, viewer)
pairs of the day it has passed on (``ViewMemo``): a reload asks nothing of the database. The
memo is bounded; when it is full it starts again, which costs at most one more write for each
viewer it forgot (and never a second count).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from starlette.requests import Request

from openplate.store.map_records import MapRecord
from openplate.web.context import AppContext, client_ip, now
from openplate.web.middleware import HEAD_REQUEST
from openplate.web.pages import Visitor

log = logging.getLogger("openplate.web")

DAY = 86_400
#: Pairs remembered per process before the memo starts again (about 150 bytes each).
MEMO_SIZE = 100_000
#: Longest User-Agent that counts in full.
_MAX_AGENT = 512


@dataclass
class ViewMemo:
    """The (map id, viewer digest) pairs of ``day`` already passed on to the repository."""

    day: int = -1
    seen: set[tuple[int, str]] = field(default_factory=set)

    def first(self, map_id: int, viewer: str, day: int) -> bool:
        """Is this the first time this process sees the pair today? (Remembers it.)"""
        if day != self.day or len(self.seen) >= MEMO_SIZE:
            self.day, self.seen = day, set()
        pair = (map_id, viewer)
        if pair in self.seen:
            return False
        self.seen.add(pair)
        return True

    def forget(self, map_id: int, viewer: str) -> None:
        self.seen.discard((map_id, viewer))


def memo_of(request: Request) -> ViewMemo:
    """The app's memo (made on the first map page)."""
    state = request.app.state
    memo: ViewMemo | None = getattr(state, "map_view_memo", None)
    if memo is None:
        memo = state.map_view_memo = ViewMemo()
    return memo


def viewer_digest(ctx: AppContext, request: Request, who: Visitor, day: int) -> str:
    """Who is viewing, as a keyed digest (43 characters) for ``day``."""
    if who.user is not None:
        name = f"user:{who.user.id}"
    elif who.session is not None:
        name = f"session:{who.session.id}"
    else:
        agent = request.headers.get("user-agent", "")[:_MAX_AGENT]
        name = f"address:{client_ip(request)}\x00{agent}"
    return ctx.digester.derive(f"{day}\x00{name}", purpose="map viewer", prefix="", stamp=None)


async def count_view(ctx: AppContext, request: Request, who: Visitor, record: MapRecord) -> bool:
    """Count this view of ``record`` if it is the viewer's first today: True if it was counted
    now. The owner's own views do not count. A failure to write costs only the count (logged);
    the page is served all the same."""
    if who.user is not None and who.user.id == record.owner_id:
        return False
    if request.scope.get(HEAD_REQUEST):  # a HEAD shows no page: a link checker is no viewer
        return False
    day = now() // DAY
    viewer = viewer_digest(ctx, request, who, day)
    memo = memo_of(request)
    if not memo.first(record.id, viewer, day):
        return False
    try:
        async with ctx.db.transaction() as store:
            return await store.maps.record_view(record.id, viewer, day)
    except Exception as error:  # noqa: BLE001 - the page is more important than its count
        memo.forget(record.id, viewer)
        log.warning("could not count a map view: %s", type(error).__name__)
        return False
