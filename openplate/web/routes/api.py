"""The JSON API that access tokens open: /users/me, and the library's /maps (RFC 6750 bearer
tokens; see maps_upload.py and maps_api.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from openplate.oauth.models import UserProfile
from openplate.web.context import AppContext
from openplate.web.errors import error_reply
from openplate.web.hot import HotRequest
from openplate.web.replies import Reply, json_reply
from openplate.web.routes import maps_api, maps_export, maps_upload
from openplate.web.routes.bearer_auth import (
    Authorization,
    BearerRejected,
    authorization_header,
    check_bearer,
)

__all__ = ["Authorization", "BearerRejected", "CACHE_NO_STORE", "Me", "authorization_header",
           "check_bearer", "me_json", "member_since", "router", "users_me_reply"]

router = APIRouter(tags=["api"])
router.include_router(maps_upload.router)
router.include_router(maps_api.router)
router.include_router(maps_export.router)

CACHE_NO_STORE = ((b"cache-control", b"no-store"),)


class Me(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    Id: int = Field(description="The account's numeric id.")
    UserName: str = Field(description="The account's username (the field the original clients read).")
    Email: str
    MemberSince: str = Field(description="When the account was created (ISO 8601, UTC).")


def member_since(created_at: int) -> str:
    return datetime.fromtimestamp(created_at, UTC).isoformat()


def me_json(user: UserProfile) -> dict[str, object]:
    """``Me``: what /users/me (and the MCP tool ``whoami``) answer."""
    return {"Id": user.id, "UserName": user.username, "Email": user.email,
            "MemberSince": member_since(user.created_at)}


async def users_me_reply(ctx: AppContext, request: HotRequest) -> Reply:
    """The body of ``Me``, built directly (a hot endpoint, declared in hot_endpoints.py)."""
    authorization = request.header(b"authorization")
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, authorization, scope="account", user_only=True)
    user = principal.user
    if user is None:
        return error_reply(404, "not_found", "The account no longer exists.")
    return json_reply(me_json(user), headers=CACHE_NO_STORE)
