"""Read an XML upload: the root element decides between FreeMind/Freeplane and OPML.

The document is parsed once, as a stream; the handler for the format is chosen when the root
element arrives and receives every event from then on.
"""

from __future__ import annotations

from openplate.library.formats import NOT_A_MAP
from openplate.library.freemind import FreeMindHandler
from openplate.library.model import (
    INVALID_MAP,
    MapRejected,
    ParsedMap,
    UploadLimits,
    describe_size,
)
from openplate.library.opml import OpmlHandler
from openplate.library.outline import TopicBudget
from openplate.library.xmlstream import StreamHandler, parse_stream, split_tag


class _Dispatcher(StreamHandler):
    def __init__(self, limits: UploadLimits) -> None:
        super().__init__(max_xml_depth=0)  # the chosen handler guards the depth
        self._limits = limits
        self.delegate: FreeMindHandler | OpmlHandler | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.delegate is None:
            self.root_seen = True
            budget = TopicBudget(self._limits)
            if split_tag(tag) == ("", "map"):
                self.delegate = FreeMindHandler(self._limits, budget)
            elif split_tag(tag) == ("", "opml"):
                self.delegate = OpmlHandler(self._limits, budget)
            else:
                raise MapRejected.unsupported(
                    "The XML document is neither a FreeMind map (root <map>) "
                    "nor an OPML outline (root <opml>)."
                )
        self.delegate.start(tag, attrib)

    def end(self, tag: str) -> None:
        if self.delegate is not None:
            self.delegate.end(tag)

    def data(self, text: str) -> None:
        if self.delegate is not None:
            self.delegate.data(text)


def parse_xml_map(data: bytes, limits: UploadLimits) -> ParsedMap:
    """Parse a FreeMind/Freeplane map or an OPML outline; raise MapRejected otherwise."""
    if len(data) > limits.max_xml_bytes:
        raise MapRejected.too_large(
            f"The map document is larger than the {describe_size(limits.max_xml_bytes)} limit."
        )
    handler = _Dispatcher(limits)
    try:
        parse_stream(data, handler)
    except MapRejected as exc:
        if exc.error == INVALID_MAP and not handler.root_seen:
            raise MapRejected.unsupported(NOT_A_MAP) from exc
        raise
    if handler.delegate is None:  # the parser reports a root element or fails
        raise MapRejected.unsupported(NOT_A_MAP)
    return handler.delegate.finish()
