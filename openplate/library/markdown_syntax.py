"""The bits of Markdown syntax the outline reader and writer share: escapes and links.

Reading undoes CommonMark backslash escapes (a backslash before ASCII punctuation) and takes a
title that is one whole inline link, ``[text](url)``, as a title plus a link. Writing escapes
every character that could otherwise start a heading, a list item, a code fence, a thematic
break, emphasis, a link, raw HTML or a heading's closing sequence, so the reader gives back
the text that was written.
"""

from __future__ import annotations

import re

_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_LEADING_MARK = re.compile(r"[#+=~-]|\d+[.)]")
_CLOSING_HASHES = re.compile(r"(?<=[ \t])#(#*)$")
_NEEDS_ESCAPES = re.compile(r"[\\`*_\[\]<>]|\A(?:[#+=~-]|\d+[.)])|#\Z")
_LINK = re.compile(
    r"\[(?P<text>(?:[^\[\]\\]|\\.)*)\]"
    r"\([ \t]*(?:<(?P<angled>[^<>\n]*)>|(?P<bare>[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*))"
    r'(?:[ \t]+"[^"\n]*")?[ \t]*\)'
)


def unescape(text: str) -> str:
    """Remove the backslash of each backslash escape (``\\#`` -> ``#``)."""
    return _UNESCAPE.sub(r"\1", text) if "\\" in text else text


def split_link(text: str) -> tuple[str, str]:
    """``"[Docs](https://x)"`` -> ``("Docs", "https://x")``; other text -> ``(text, "")``.

    The text comes back unescaped; the URL is returned as written (the caller cleans it).
    """
    match = _LINK.fullmatch(text.strip())
    if match is None:
        return unescape(text), ""
    url = match.group("angled")
    if url is None:
        url = match.group("bare")
    return unescape(match.group("text")), url


def escape_inline(text: str) -> str:
    """Escape the characters that mean something anywhere in a line."""
    return _INLINE_SPECIAL.sub(r"\\\1", text)


def escape_line(text: str) -> str:
    """Escape ``text`` so that, alone on a line, it reads back as itself."""
    if not _NEEDS_ESCAPES.search(text):
        return text
    out = escape_inline(text)
    lead = _LEADING_MARK.match(out)
    if lead is not None:
        mark = lead.group()
        out = mark[:-1] + "\\" + out[len(mark) - 1 :]
    return _CLOSING_HASHES.sub(r"\\#\1", out)


def write_link(text: str, url: str) -> str:
    """``[text](url)``, with the URL in angle brackets when it holds parentheses."""
    destination = f"<{url}>" if "(" in url or ")" in url else url
    return f"[{escape_inline(text)}]({destination})"
