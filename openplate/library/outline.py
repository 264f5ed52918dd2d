"""Shared outline helpers: topic/depth budgets, stack-based tree building and walking."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from openplate.library.cleaning import clean_link, clean_note, clean_title
from openplate.library.model import MapRejected, Topic, UploadLimits

# clean_title lived here before notes and links; it is still importable from here.
__all__ = [
    "TopicHead", "TopicBudget", "build_tree", "walk", "normalise", "clean_title",
]

N = TypeVar("N")


class TopicHead(NamedTuple):
    """What a topic says about itself, already cleaned: everything but its children."""

    title: str
    note: str = ""
    link: str = ""


@dataclass
class TopicBudget:
    """Counts topics across every sheet of one map and enforces the topic and depth limits."""

    limits: UploadLimits
    count: int = 0
    deepest: int = 0

    def add(self, depth: int) -> None:
        """Account for one more topic at ``depth`` (the root topic of a sheet is depth 1)."""
        if depth > self.limits.max_depth:
            raise self._too_deep()
        self.deepest = max(self.deepest, depth)
        self.count += 1
        if self.count > self.limits.max_topics:
            raise MapRejected.unsafe(f"The map has more than {self.limits.max_topics} topics.")

    def add_root_above(self) -> None:
        """Account for a new root placed above every topic counted so far (one level deeper)."""
        if self.deepest + 1 > self.limits.max_depth:
            raise self._too_deep()
        self.deepest += 1
        self.add(1)

    def _too_deep(self) -> MapRejected:
        return MapRejected.unsafe(
            f"The map is nested more than {self.limits.max_depth} levels deep."
        )


@dataclass
class _Frame(Generic[N]):
    head: TopicHead
    pending: Iterator[N]
    built: list[Topic] = field(default_factory=list)


def build_tree(
    root: N,
    head_of: Callable[[N], TopicHead],
    children_of: Callable[[N], Iterable[N]],
    budget: TopicBudget,
) -> Topic:
    """Convert a nested structure into a :class:`Topic` tree without recursion.

    ``head_of`` returns the cleaned title, note and link of a node, ``children_of`` its child
    nodes; both may raise :class:`MapRejected` for malformed nodes.
    """
    budget.add(1)
    stack = [_Frame(head_of(root), iter(children_of(root)))]
    while True:
        frame = stack[-1]
        try:
            child = next(frame.pending)
        except StopIteration:
            pass
        else:
            budget.add(len(stack) + 1)
            stack.append(_Frame(head_of(child), iter(children_of(child))))
            continue
        stack.pop()
        head = frame.head
        topic = Topic(head.title, tuple(frame.built), head.note, head.link)
        if not stack:
            return topic
        stack[-1].built.append(topic)


def walk(root: Topic) -> Iterator[tuple[Topic, int, bool]]:
    """Yield ``(topic, depth, entering)`` in document order: each topic is entered (``True``)
    before its children and left (``False``) after them. The root is depth 1."""
    stack: list[tuple[Topic, bool]] = [(root, True)]
    depth = 0
    while stack:
        topic, entering = stack.pop()
        if entering:
            depth += 1
            yield topic, depth, True
            stack.append((topic, False))
            stack.extend((child, True) for child in reversed(topic.children))
        else:
            yield topic, depth, False
            depth -= 1


def normalise(root: Topic, limits: UploadLimits) -> Topic:
    """The same tree with every title, note and link in the form the parsers produce.

    Depth and topic count are not limited here; only the text of each topic is cleaned.
    Topics that are already clean are reused as they are.
    """
    built: list[list[Topic]] = [[]]
    for topic, _, entering in walk(root):
        if entering:
            built.append([])
            continue
        children = built.pop()
        title = clean_title(topic.title, limits)
        note = clean_note(topic.note, limits) if topic.note else ""
        link = clean_link(topic.link, limits) if topic.link else ""
        same = (title, note, link) == (topic.title, topic.note, topic.link) and all(
            map(operator.is_, children, topic.children)
        )
        built[-1].append(topic if same else Topic(title, tuple(children), note, link))
    return built[0][0]
