"""Shared outline helpers: title cleaning, topic/depth budgets and stack-based tree building."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from openplate.library.model import UNTITLED, MapRejected, Topic, UploadLimits

N = TypeVar("N")

# C0 and C1 control characters (and DEL) are dropped; layout whitespace becomes a space.
_CONTROL_TABLE: dict[int, str | None] = {
    **{c: None for c in range(0x00, 0x20)},
    0x7F: None,
    **{c: None for c in range(0x80, 0xA0)},
    **{ord(c): " " for c in "\t\n\r\x0b\x0c\x85"},
}
# Lone surrogates cannot be encoded as UTF-8, so they are removed too.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_title(raw: str, limits: UploadLimits) -> str:
    """Normalise a topic title: no control characters, single spaces, bounded length."""
    text = raw.translate(_CONTROL_TABLE)
    text = _SURROGATES.sub("", text)
    text = " ".join(text.split())
    if len(text) > limits.max_title_chars:
        text = text[: limits.max_title_chars].rstrip()
    return text or UNTITLED


@dataclass
class TopicBudget:
    """Counts topics across every sheet of one map and enforces the topic and depth limits."""

    limits: UploadLimits
    count: int = 0

    def add(self, depth: int) -> None:
        """Account for one more topic at ``depth`` (the root topic of a sheet is depth 1)."""
        if depth > self.limits.max_depth:
            raise MapRejected.unsafe(
                f"The map is nested more than {self.limits.max_depth} levels deep."
            )
        self.count += 1
        if self.count > self.limits.max_topics:
            raise MapRejected.unsafe(f"The map has more than {self.limits.max_topics} topics.")


@dataclass
class _Frame(Generic[N]):
    title: str
    pending: Iterator[N]
    built: list[Topic] = field(default_factory=list)


def build_tree(
    root: N,
    title_of: Callable[[N], str],
    children_of: Callable[[N], Iterable[N]],
    budget: TopicBudget,
) -> Topic:
    """Convert a nested structure into a :class:`Topic` tree without recursion.

    ``title_of`` returns the cleaned title of a node, ``children_of`` its child nodes; both
    may raise :class:`MapRejected` for malformed nodes.
    """
    budget.add(1)
    stack = [_Frame(title_of(root), iter(children_of(root)))]
    while True:
        frame = stack[-1]
        try:
            child = next(frame.pending)
        except StopIteration:
            pass
        else:
            budget.add(len(stack) + 1)
            stack.append(_Frame(title_of(child), iter(children_of(child))))
            continue
        stack.pop()
        topic = Topic(frame.title, tuple(frame.built))
        if not stack:
            return topic
        stack[-1].built.append(topic)
