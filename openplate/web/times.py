"""Times on pages: written in UTC inside ``<time datetime=...>``, and turned into the visitor's
local time by /static/localtime.js. Without JavaScript the UTC time stays, and the page's note
(``TIMES_NOTE``) says that it is UTC; the script rewrites the note too."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

TIMES_NOTE = Markup('<p class="small times-note" data-times-note>Times are in UTC.</p>')


def moment(timestamp: int | None, *, never: str = "never") -> Markup:
    """A ``<time>`` element for a Unix time (``never`` for None)."""
    if timestamp is None:
        return escape(never)
    at = datetime.fromtimestamp(timestamp, UTC)
    return Markup('<time datetime="{}" data-local>{}</time>').format(
        at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.strftime("%d %b %Y %H:%M UTC"))
