"""Streaming XML parsing through defusedxml into a callback handler, with a depth guard.

No element tree is built: the handler sees start/end/data events and keeps only what it
needs, so memory stays proportional to the outline rather than to the number of XML
elements. DTDs, entity declarations and external references are forbidden outright.
"""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree as _defused  # type: ignore[import-untyped, unused-ignore]
from defusedxml.common import (  # type: ignore[import-untyped, unused-ignore]
    DefusedXmlException,
)

from openplate.library.model import MapRejected

_CHUNK = 64 * 1024


def split_tag(tag: str) -> tuple[str, str]:
    """Split ``{namespace}local`` into ``(namespace, local)``; no namespace gives ``""``."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


class StreamHandler:
    """Base class for parser targets; subclasses implement the ``on_*`` hooks."""

    def __init__(self, max_xml_depth: int) -> None:
        self.root_seen = False
        self._depth = 0
        self._max_xml_depth = max_xml_depth

    # --- called by the XML parser -------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._depth += 1
        if self._depth > self._max_xml_depth:
            raise MapRejected.unsafe(
                f"The XML document is nested more than {self._max_xml_depth} elements deep."
            )
        namespace, local = split_tag(tag)
        first = not self.root_seen
        self.root_seen = True
        self.on_start(namespace, local, attrib, first)

    def end(self, tag: str) -> None:
        namespace, local = split_tag(tag)
        self.on_end(namespace, local)
        self._depth -= 1

    def data(self, text: str) -> None:
        self.on_data(text)

    def close(self) -> None:
        return None

    # --- implemented by subclasses --------------------------------------------------
    def on_start(self, namespace: str, local: str, attrib: dict[str, str], root: bool) -> None:
        raise NotImplementedError

    def on_end(self, namespace: str, local: str) -> None:
        raise NotImplementedError

    def on_data(self, text: str) -> None:
        return None


def parse_stream(data: bytes, handler: StreamHandler) -> None:
    """Feed ``data`` to a defused parser driving ``handler``; translate errors to MapRejected.

    A DTD, entity declaration or external reference gives ``unsafe_map``; malformed XML
    gives ``invalid_map``. Errors raised by the handler propagate unchanged.
    """
    parser = _defused.XMLParser(
        target=handler, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.feed(data[offset : offset + _CHUNK])
        parser.close()
    except MapRejected:
        raise
    except DefusedXmlException as exc:
        raise MapRejected.unsafe(
            "The XML document declares a DTD, entities or external references, "
            "which are not allowed."
        ) from exc
    except (ParseError, SyntaxError, ValueError, LookupError) as exc:
        raise MapRejected.invalid("The XML document is malformed.") from exc
