"""RFC 8707 resource indicators and RFC 9728 metadata URLs, without a server."""

from __future__ import annotations

import pytest

from openplate.oauth.errors import InvalidTarget
from openplate.oauth.params import parse_params
from openplate.oauth.resources import Resources, narrowed, requested

BASE = "https://maps.example"
RESOURCES = Resources.of(api=BASE, base_url=BASE)
MCP = BASE + "/mcp"


def test_resource_may_repeat_and_other_parameters_may_not() -> None:
    params = parse_params(f"resource={MCP}&resource={BASE}&resource={MCP}&scope=a&scope=b")
    assert params.get_all("resource") == (MCP, BASE)
    assert params.duplicated == frozenset({"scope"})
    assert requested(params, RESOURCES) == (MCP, BASE)
    assert requested(parse_params("scope=a"), RESOURCES) == ()


@pytest.mark.parametrize("value", [
    "mcp", "/mcp", BASE + "/mcp#frag", BASE + "/mcp#", "https://other.example/mcp",
    BASE + "/api", "urn:openplate:api",
])
def test_a_resource_we_do_not_serve_or_a_malformed_one_is_invalid_target(value: str) -> None:
    with pytest.raises(InvalidTarget):
        requested(parse_params(f"resource={value}"), RESOURCES)


def test_at_most_four_resources() -> None:
    many = "&".join(f"resource={BASE}/mcp?{i}" for i in range(5))
    with pytest.raises(InvalidTarget, match="At most 4"):
        requested(parse_params(many), RESOURCES)


def test_a_token_request_may_only_narrow_the_grants_resources() -> None:
    assert narrowed((), None) is None  # the API, as before
    assert narrowed((), MCP) == MCP
    assert narrowed((MCP,), f"{MCP} {BASE}") == MCP
    assert narrowed((MCP,), None) == MCP  # a grant that named none: any resource we serve
    with pytest.raises(InvalidTarget):
        narrowed((BASE,), MCP)


def test_what_a_token_opens() -> None:
    assert RESOURCES.allows(None, BASE) and not RESOURCES.allows(None, MCP)
    assert RESOURCES.allows(MCP, MCP) and not RESOURCES.allows(MCP, BASE)
    assert RESOURCES.allows(f"{MCP} {BASE}", BASE)


def test_metadata_urls_follow_rfc_9728_section_3_1() -> None:
    assert RESOURCES.metadata_url(BASE) == BASE + "/.well-known/oauth-protected-resource"
    assert RESOURCES.metadata_url(MCP) == BASE + "/.well-known/oauth-protected-resource/mcp"
    # A separate API audience is still described at the site's root.
    custom = Resources.of(api="https://api.maps.example", base_url=BASE)
    assert custom.known == ("https://api.maps.example", MCP)
    assert custom.metadata_url(custom.api) == BASE + "/.well-known/oauth-protected-resource"
