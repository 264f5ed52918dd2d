"""The library's JSON shapes: a map's metadata, its outline, a page of maps; the models describe
them in the OpenAPI document, the functions build them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openplate.store.map_records import MapRecord, MapSummary
from openplate.web.context import AppContext


class CategoryOut(BaseModel):
    slug: str
    name: str


class MapOut(BaseModel):
    id: str = Field(description="The map's public id.")
    url: str = Field(description="Absolute URL of the map's public page.")
    title: str
    description: str
    author: str = Field(description="The owner's username.")
    format: str = Field(description="The uploaded file's format (xmind, freemind, …).")
    visibility: Literal["public", "unlisted", "private"]
    tags: list[str] = Field(description="Normalised tags, sorted.")
    category: CategoryOut | None
    topic_count: int
    view_count: int = Field(description="Views, one per viewer and day.")
    created_at: str = Field(description="ISO 8601, UTC.")
    updated_at: str = Field(description="ISO 8601, UTC: the last change of its metadata.")
    download_url: str = Field(description="The original upload, as on the map's page.")
    thumbnail_url: str = Field(description="A PNG thumbnail: the one the upload brought, else "
                                           "one drawn from the outline.")


class OutlineTopic(BaseModel):
    """One topic of the outline; more keys may come (and are kept as stored)."""

    model_config = ConfigDict(extra="allow")
    title: str
    note: str | None = None
    link: str | None = None
    children: list[OutlineTopic] = Field(default_factory=list)


class MapDetail(MapOut):
    outline: list[OutlineTopic] = Field(description="The sheets, each a root topic, as stored.")


class MapList(BaseModel):
    maps: list[MapOut]
    next: str | None = Field(description="Absolute URL of the next page; null on the last.")


class MapCreated(BaseModel):
    id: str
    url: str = Field(description="Absolute URL of the map's public page.")
    title: str
    description: str
    format: str
    download_url: str
    thumbnail_url: str = Field(description="A PNG thumbnail: the one the upload brought, else "
                                           "one drawn from the outline.")
    visibility: Literal["public", "unlisted", "private"]
    tags: list[str]
    category: CategoryOut | None


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def map_urls(ctx: AppContext, public_id: str, slug: str, has_thumbnail: bool) -> dict[str, Any]:
    """The map's page, download and thumbnail URLs. Every map has a thumbnail now (one is drawn
    for a map that brought none); ``has_thumbnail`` is kept for the callers' sake."""
    return {
        "url": ctx.url(f"/mindmaps/{public_id}/{slug}"),
        "download_url": ctx.url(f"/mindmaps/{public_id}/files/map"),
        "thumbnail_url": ctx.url(f"/mindmaps/{public_id}/files/thumbnail.png"),
    }


def category_json(slug: str | None, name: str | None) -> dict[str, str] | None:
    return {"slug": slug, "name": name} if slug is not None and name is not None else None


def summary_json(ctx: AppContext, record: MapSummary) -> dict[str, Any]:
    """``MapOut``, in its fields' order."""
    urls = map_urls(ctx, record.public_id, record.slug, record.has_thumbnail)
    return {
        "id": record.public_id, "url": urls["url"], "title": record.title,
        "description": record.description, "author": record.author, "format": record.format,
        "visibility": record.visibility, "tags": list(record.tags),
        "category": category_json(record.category_slug, record.category_name),
        "topic_count": record.topic_count, "view_count": record.view_count,
        "created_at": iso_time(record.created_at), "updated_at": iso_time(record.updated_at),
        "download_url": urls["download_url"], "thumbnail_url": urls["thumbnail_url"],
    }


def detail_json(ctx: AppContext, record: MapRecord) -> dict[str, Any]:
    """``MapDetail``: the metadata and the outline as stored."""
    try:
        outline = json.loads(record.outline)
    except ValueError:
        outline = []
    return {**summary_json(ctx, record), "outline": outline}
