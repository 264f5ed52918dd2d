"""What every route needs, built once by ``create_app`` and kept on ``app.state``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import Scope

from openplate.oauth.dpop import DPoPProof, ProofPolicy
from openplate.oauth.dpop_nonce import NonceMaker
from openplate.oauth.issuance import TokenContext, TokenPolicy
from openplate.oauth.oidc.keys import KeyRing
from openplate.oauth.ports import ProofLedger
from openplate.oauth.resources import Resources
from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.unit import Database, Store
from openplate.throttling import Counters, RecentlyClear, RememberingCounters, ThrottlePolicy
from openplate.web.metrics import Metrics

if TYPE_CHECKING:  # Jinja2 and the Redis client load when first needed, not at start-up
    from jinja2 import Environment
    from redis.asyncio import Redis

    from openplate.accounts.second_factor import TotpSecretSeal
    from openplate.backchannel import BackchannelWorker
    from openplate.mail.worker import MailWorker
    from openplate.store.redis_counters import RedisCounters
    from openplate.web.notices import NoticeSeal
    from openplate.web.sessions import FormTokens

TEMPLATES = Path(__file__).with_name("templates")


def now() -> int:
    return int(time.time())


def make_templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )
    return env


@dataclass
class LiveKeys:
    """The signing key ring, reloaded in the background so a rotation on any node is picked up."""

    ring: KeyRing | None = None


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database
    digester: Digester
    policy: TokenPolicy
    parse_slots: asyncio.Semaphore
    throttle: ThrottlePolicy
    keys: LiveKeys
    metadata_json: bytes  # RFC 8414 / OIDC Discovery document, built once
    metrics: Metrics
    mail: MailWorker
    redis: Redis | None = None
    #: Delivers Back-Channel Logout tokens (openplate/backchannel.py).
    backchannel: BackchannelWorker | None = None

    @cached_property
    def templates(self) -> Environment:
        """The page templates, loaded on the first page (the API never needs them)."""
        return make_templates()

    @cached_property
    def form_tokens(self) -> FormTokens:
        """CSRF tokens for browsers without a session (see sessions.py)."""
        from openplate.web.sessions import FormTokens

        return FormTokens(self.digester.key)

    @cached_property
    def notice_seal(self) -> NoticeSeal:
        """Seals the one-time notices kept with a session (see notices.py)."""
        from openplate.web.notices import NoticeSeal

        return NoticeSeal(self.digester.key)

    @cached_property
    def totp_seal(self) -> TotpSecretSeal:
        """Seals TOTP secrets at rest (see accounts/second_factor.py)."""
        from openplate.accounts.second_factor import TotpSecretSeal

        return TotpSecretSeal(self.digester.key)

    @cached_property
    def resources(self) -> Resources:
        """RFC 8707: the API and the MCP endpoint, the resources tokens are for."""
        return Resources.of(api=self.settings.audience, base_url=self.settings.base_url)

    def resource_metadata_url(self, resource: str) -> str:
        """RFC 9728: the metadata document of ``resource``."""
        return self.resources.metadata_url(resource)

    def counters(self, store: Store) -> Counters:
        """Throttle counters: Redis when configured (database if it fails), else the database."""
        if self.redis is None:
            return RememberingCounters(store.counters, self._recently_clear)
        from openplate.store.redis_counters import FallbackCounters

        counters = FallbackCounters(self._redis_counters, store.counters)
        return RememberingCounters(counters, self._recently_clear)

    @cached_property
    def _recently_clear(self) -> RecentlyClear:
        return RecentlyClear()

    @cached_property
    def _redis_counters(self) -> RedisCounters:
        from openplate.store.redis_counters import RedisCounters

        assert self.redis is not None
        return RedisCounters(self.redis, self.digester, self.settings.redis_prefix)

    def token_context(self, proof: DPoPProof | None = None) -> TokenContext:
        return TokenContext(
            digester=self.digester, now=now(), policy=self.policy,
            issuer=self.settings.base_url, audience=self.settings.audience, signer=self.keys.ring,
            resources=self.resources, proof=proof,
        )

    @cached_property
    def proof_policy(self) -> ProofPolicy:
        """How old a DPoP proof may be (RFC 9449 §11.1; OPENPLATE_DPOP_*)."""
        return ProofPolicy(max_age=self.settings.dpop_proof_max_age,
                           future_skew=self.settings.dpop_clock_skew)

    @cached_property
    def dpop_nonces(self) -> NonceMaker:
        """DPoP server nonces (RFC 9449 §8, §9) under a key derived from the instance key, so
        that every node makes and accepts the same ones."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"openplate dpop nonces v1").derive(self.digester.key)
        return NonceMaker(key, lifetime=self.settings.dpop_nonce_lifetime)

    @cached_property
    def dpop_ledger(self) -> ProofLedger:
        """The DPoP proofs seen (RFC 9449 §11.1): Redis when configured, else the database."""
        from openplate.store.dpop_ledger import DatabaseLedger, RedisLedger

        database = DatabaseLedger(self.db)
        if self.redis is None:
            return database
        return RedisLedger(self.redis, self.settings.redis_prefix, database)

    def url(self, path: str) -> str:
        """An absolute URL under the public base URL."""
        return self.settings.base_url + path


def scope_ip(scope: Scope) -> str:
    """The peer's address (behind a trusted proxy, uvicorn's proxy headers set it)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def client_ip(request: Request) -> str:
    return scope_ip(request.scope)


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
