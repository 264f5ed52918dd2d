"""Generate ``openplate demo``'s maps: one ``DemoMap`` per index, the same for the same seed.

Each map is drawn from a random generator seeded with the seed and the map's index alone, so
map 5 of seed 1 is the same whatever else is generated, in whatever order or process. A map
has a language, a size (a few topics to a few thousand, most small), an outline of that many
topics with a few notes and links, and a file in one of the five input formats, which is then
read with ``parse_upload``, exactly as an upload: what is stored is what an upload of that file
would store. Its owner, visibility, tags, category, date and view count are drawn too.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from openplate.cli import demo_words
from openplate.cli.demo_files import WRITERS
from openplate.cli.demo_words import Language
from openplate.library.model import Topic
from openplate.library.slugs import slugify
from openplate.library.upload import parse_upload
from openplate.store.map_fields import MAX_TITLE_CHARS

DAY = 86_400
YEAR = 365 * DAY
#: Input formats and how often each is drawn (weights).
FORMAT_WEIGHTS = {"xmind": 40, "freemind": 20, "markdown": 15, "opml": 15, "mindmanager": 10}
VISIBILITY_WEIGHTS = {"public": 90, "unlisted": 6, "private": 4}
#: The most topics a generated map has.
MAX_TOPICS = 4_000


@dataclass(frozen=True)
class DemoMap:
    """What ``SqlMaps.create`` takes for one generated map (``owner`` indexes the demo users,
    ``category`` the categories; ``views`` is set after the map is made)."""

    public_id: str
    slug: str
    title: str
    description: str
    owner: int
    format: str
    filename: str
    media_type: str
    content: bytes
    outline: str
    topic_count: int
    tags: tuple[str, ...]
    visibility: str
    category: int | None
    created_at: int
    views: int


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def topic_count(rng: random.Random) -> int:
    """Most maps are small (median about 16 topics); one in thirty has hundreds, one in five
    hundred a few thousand."""
    draw = rng.random()
    if draw < 0.002:
        return rng.randint(1_000, MAX_TOPICS)
    if draw < 0.035:
        return rng.randint(120, 800)
    return max(3, min(120, round(rng.lognormvariate(2.75, 0.75))))


class Words:
    """Titles, notes and descriptions in one language."""

    def __init__(self, rng: random.Random, language: Language) -> None:
        self.rng = rng
        self.language = language

    def phrase(self, low: int, high: int) -> str:
        rng, language = self.rng, self.language
        words = [rng.choice(language.words) for _ in range(rng.randint(low, high))]
        text = (" " if language.spaced else "").join(words)
        if language.capitalise:
            text = text[:1].upper() + text[1:]
        if rng.random() < 0.06:
            text = f"{rng.choice(demo_words.EMOJI)} {text}"
        elif rng.random() < 0.03:
            text = f"{text} {rng.randint(1, 12)}"
        return text

    def sentence(self) -> str:
        return self.phrase(4, 12) + ("." if self.language.spaced else "。")


def outline(rng: random.Random, words: Words, count: int, root_title: str) -> Topic:
    """A tree of ``count`` topics: the root, three to eight branches, and the rest each under a
    random earlier topic (so depth grows slowly with size); a few notes and links."""
    branches = min(count - 1, rng.randint(3, 8))
    parents = [-1] + [0] * branches
    for index in range(branches + 1, count):
        parents.append(rng.randrange(1, index))
    heads: list[tuple[str, str, str]] = [(root_title, "", "")]
    for _ in range(1, count):
        note = ""
        if rng.random() < 0.05:
            note = words.sentence()
            if rng.random() < 0.3:
                note += "\n" + words.sentence()
        link = f"https://example.com/notes/{rng.randrange(10**6)}" if rng.random() < 0.02 else ""
        heads.append((words.phrase(1, 4), note, link))
    kids: list[list[int]] = [[] for _ in range(count)]
    for index in range(1, count):
        kids[parents[index]].append(index)
    built: list[Topic] = [Topic("")] * count
    for index in range(count - 1, -1, -1):
        title, note, link = heads[index]
        built[index] = Topic(title, tuple(built[child] for child in kids[index]), note, link)
    return built[0]


def public_id_of(seed: int, base: int, index: int) -> str:
    """A public id in the shape of ``new_public_id``'s, from the seed, the number of maps the
    database held before this run (``base``: a second run gives new ids) and the index."""
    digest = hashlib.sha256(f"openplate-demo/{seed}/{base}/{index}".encode()).hexdigest()
    return digest[:12] + "abcdefghjkmnpqrstuvwxyz"[int(digest[12:16], 16) % 23]


def make_map(seed: int, base: int, index: int, *, owners: int, categories: int,
             now: int) -> DemoMap:
    """The ``index``-th map of ``seed``."""
    rng = random.Random(f"openplate-demo/{seed}/{index}")
    language = rng.choices([lang for lang, _ in demo_words.LANGUAGES],
                           weights=[weight for _, weight in demo_words.LANGUAGES])[0]
    words = Words(rng, language)
    count = topic_count(rng)
    fmt = _pick(rng, FORMAT_WEIGHTS)
    root_title = words.phrase(2, 5)
    sheets = [outline(rng, words, count, root_title)]
    if fmt == "xmind" and count < 200 and rng.random() < 0.1:  # a workbook of two sheets
        sheets.append(outline(rng, words, rng.randint(3, 12), words.phrase(2, 4)))
    content = WRITERS[fmt](sheets, root_title)
    parsed = parse_upload(f"demo{index}", content)
    title = parsed.sheets[0].title[:MAX_TITLE_CHARS]  # as an upload that names no title
    description = " ".join(words.sentence() for _ in range(rng.randint(1, 3))) \
        if rng.random() < 0.6 else ""
    tags = [rng.choice(demo_words.TOPIC_TAGS) for _ in range(rng.choice((0, 1, 2, 2, 3, 4)))]
    if language.tag is not None and rng.random() < 0.7:
        tags.append(language.tag)
    owner = min(owners - 1, int(rng.paretovariate(1.1)) - 1)  # the first user shares most
    category = rng.randrange(categories) if categories and rng.random() < 0.75 else None
    age = int(YEAR * rng.random() ** 1.5)  # more maps of late than a year ago
    views = int(rng.paretovariate(1.3) * 4) - 4 + (rng.randrange(3) if age > DAY else 0)
    slug = slugify(title)
    return DemoMap(
        public_id=public_id_of(seed, base, index), slug=slug, title=title,
        description=description, owner=owner, format=parsed.format,
        filename=f"{slug}{parsed.extension}", media_type=parsed.media_type, content=content,
        outline=json.dumps([sheet.to_json() for sheet in parsed.sheets]),
        topic_count=parsed.topic_count, tags=tuple(dict.fromkeys(tags)),
        visibility=_pick(rng, VISIBILITY_WEIGHTS), category=category,
        created_at=now - age, views=min(views, 1_000_000))


def make_batch(seed: int, base: int, start: int, stop: int, owners: int, categories: int,
               now: int) -> list[DemoMap]:
    """Maps ``start`` to ``stop - 1`` (a worker process's share)."""
    return [make_map(seed, base, index, owners=owners, categories=categories, now=now)
            for index in range(start, stop)]
