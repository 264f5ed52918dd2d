"""Normal forms of the text a topic carries: its title, its plain-text note and its link.

Every parser passes what it reads through these functions, and the exporters pass every topic
through them again, so a map that is exported and imported back compares equal.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from openplate.library.model import UNTITLED, Topic, UploadLimits

# C0 and C1 control characters (and DEL) are dropped; layout whitespace becomes a space.
# U+FFFE and U+FFFF go as well: XML 1.0 cannot carry them, so an export could not either.
_CONTROLS = {
    **{c: None for c in range(0x00, 0x20)},
    0x7F: None,
    **{c: None for c in range(0x80, 0xA0)},
    0xFFFE: None,
    0xFFFF: None,
}
_TITLE_TABLE: dict[int, str | None] = {
    **_CONTROLS,
    **{ord(c): " " for c in "\t\n\r\x0b\x0c\x85"},
}
# Notes keep their line breaks: NEL and the Unicode line/paragraph separators become "\n".
_NOTE_TABLE: dict[int, str | None] = {
    **_CONTROLS,
    **{ord(c): " " for c in "\t\x0b\x0c"},
    **{ord(c): "\n" for c in "\n\x85\u2028\u2029"},
}
# Lone surrogates cannot be encoded as UTF-8, so they are removed too.
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINK_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINK_ENCODED = re.compile(r'[\s<>"\\]')
_WEB_SCHEMES = frozenset({"http", "https"})


def _already_clean(text: str, most: int) -> bool:
    # Printable text has no whitespace but " " (no tabs, newlines or Unicode spaces) and no
    # control, format, surrogate or unassigned characters: it only needs checking for spaces.
    return (
        0 < len(text) <= most
        and text.isprintable()
        and text[0] != " "
        and text[-1] != " "
        and "  " not in text
    )


def clean_title(raw: str, limits: UploadLimits) -> str:
    """Normalise a topic title: no control characters, single spaces, bounded length."""
    if _already_clean(raw, limits.max_title_chars):
        return raw
    text = raw.translate(_TITLE_TABLE)
    text = _SURROGATES.sub("", text)
    text = " ".join(text.split())
    if len(text) > limits.max_title_chars:
        text = text[: limits.max_title_chars].rstrip()
    return text or UNTITLED


def clean_note(raw: str, limits: UploadLimits) -> str:
    """Normalise a plain-text note.

    Line breaks are kept (``\\r\\n`` and ``\\r`` become ``\\n``); within a line, control
    characters go and whitespace collapses as in titles. Blank lines at either end are removed
    and runs of blank lines become one. The result is cut to ``max_note_chars``.
    """
    if not raw:
        return ""
    if "\n" not in raw and _already_clean(raw, limits.max_note_chars):
        return raw
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_NOTE_TABLE)
    text = _SURROGATES.sub("", text)
    lines: list[str] = []
    for line in text.split("\n"):
        words = " ".join(line.split())
        if words or (lines and lines[-1]):
            lines.append(words)
    text = "\n".join(lines).rstrip()
    if len(text) > limits.max_note_chars:
        text = text[: limits.max_note_chars].rstrip()
    return text


def clean_link(raw: str, limits: UploadLimits) -> str:
    """Return the link if it is an absolute ``http``, ``https`` or ``mailto`` URL, else ``""``.

    Surrounding whitespace is stripped; whitespace, ``<``, ``>``, ``"`` and ``\\`` inside it
    are percent-encoded. A link with control characters, or longer than ``max_link_chars``
    once encoded, is dropped rather than shortened (a cut URL points somewhere else).
    """
    text = raw.strip()
    if not text or _LINK_FORBIDDEN.search(text):
        return ""
    text = _LINK_ENCODED.sub(lambda match: quote(match.group(), safe=""), text)
    if len(text) > limits.max_link_chars:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme in _WEB_SCHEMES and parts.netloc:
        return text
    if scheme == "mailto" and parts.path:
        return text
    return ""


def cleaned_topic(title: str, children: list[Topic], note: str, link: str,
                  limits: UploadLimits) -> Topic:
    """A topic as the streaming readers close it: its title, note and link cleaned."""
    return Topic(clean_title(title, limits), tuple(children), clean_note(note, limits),
                 clean_link(link, limits))
