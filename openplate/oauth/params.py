"""RFC 6749 §3.1, §3.2: request parameters, read strictly from a query string or form body.

"Parameters sent without a value MUST be treated as if they were omitted from the request."
"Request and response parameters MUST NOT be included more than once."
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from openplate.oauth.errors import InvalidRequest

MAX_FIELDS = 64
MAX_VALUE_CHARS = 4096
#: Parameters a request may send more than once: RFC 8707 §2 "Multiple resource parameters MAY
#: be used to indicate that the requested token is intended to be used at multiple resources."
REPEATABLE = frozenset({"resource"})


@dataclass(frozen=True, slots=True)
class Params:
    """Single-valued parameters plus the names that were sent more than once."""

    values: dict[str, str]
    duplicated: frozenset[str] = frozenset()
    #: Every value of the REPEATABLE parameters, in order, without repeats.
    repeated: dict[str, tuple[str, ...]] | None = None

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of a REPEATABLE parameter (one for any other that was sent)."""
        if self.repeated is not None and name in self.repeated:
            return self.repeated[name]
        value = self.values.get(name)
        return (value,) if value is not None else ()

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def reject_duplicates(self, names: Iterable[str] | None = None) -> None:
        """Raise ``invalid_request`` if any (or any of ``names``) was sent more than once."""
        hit = sorted(self.duplicated if names is None else self.duplicated.intersection(names))
        if hit:
            raise InvalidRequest(f"Parameter '{hit[0]}' must not be sent more than once.")


def _decode(part: bytes) -> str:
    # Most names and values (grant types, ids, our base64url secrets) need no unquoting.
    raw = unquote_to_bytes(part.replace(b"+", b" ")) if b"%" in part or b"+" in part else part
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("Parameters must be UTF-8 encoded.") from None
    if "\x00" in text:
        raise InvalidRequest("Parameters must not contain NUL characters.")
    return text


def parse_params(raw: bytes | str) -> Params:
    """Parse ``application/x-www-form-urlencoded`` data (a query string or a form body)."""
    data = raw.encode("latin-1", "replace") if isinstance(raw, str) else raw
    values: dict[str, str] = {}
    duplicated: set[str] = set()
    repeated: dict[str, tuple[str, ...]] = {}
    parts = [p for p in data.split(b"&") if p]
    if len(parts) > MAX_FIELDS:
        raise InvalidRequest("Too many parameters.")
    for part in parts:
        name_raw, _, value_raw = part.partition(b"=")
        name = _decode(name_raw)
        value = _decode(value_raw)
        if len(value) > MAX_VALUE_CHARS or len(name) > 128:
            raise InvalidRequest(f"Parameter '{name[:40]}' is too long.")
        if not value:
            continue
        if name in REPEATABLE:
            repeated[name] = tuple(dict.fromkeys((*repeated.get(name, ()), value)))
        if name in values:
            if name not in REPEATABLE:
                duplicated.add(name)
            continue
        values[name] = value
    return Params(values=values, duplicated=frozenset(duplicated), repeated=repeated or None)
