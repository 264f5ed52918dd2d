"""The protocol core driven over the in-memory store, as the web layer drives it over SQL.

``Site.make()`` gives a store with one user (alice) and one confidential application that may use
every grant; the helpers run one core call each in a unit of work of its own. A protocol error is
returned, not raised, from inside the unit, so what it did (the revocation after a replay) is
committed, as the web layer does (web/routes/client_endpoints.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from openplate.oauth import bearer
from openplate.oauth.authorize import approve, validate_request
from openplate.oauth.client_auth import ClientCall
from openplate.oauth.dpop import DPoPProof
from openplate.oauth.errors import OAuthError
from openplate.oauth.introspection import introspect
from openplate.oauth.issuance import TokenContext, TokenPolicy
from openplate.oauth.models import AccessPrincipal, Client, IssuedTokens, UserProfile
from openplate.oauth.oidc.id_token import Signer
from openplate.oauth.params import Params
from openplate.oauth.revocation import revoke
from openplate.oauth.token_endpoint import token_request
from openplate.oauth.tokens import Digester
from openplate.store.memory import MemoryDatabase

T0 = 1_900_000_000
ISSUER = "https://openplate.example"
REDIRECT_URI = "https://app.example/callback"
SECRET = "opcs_core-tests-client-secret"
DIGESTER = Digester(b"core tests key, not a secret")


@dataclass
class Site:
    db: MemoryDatabase
    alice: UserProfile
    app: Client
    policy: TokenPolicy = TokenPolicy()
    signer: Signer | None = None

    @classmethod
    def make(cls, *, policy: TokenPolicy | None = None, signer: Signer | None = None) -> Site:
        db = MemoryDatabase(DIGESTER)
        alice = db.add_user("alice", created_at=T0 - 86_400)
        app = db.add_client(
            owner_id=alice.id, secret=SECRET, redirect_uris=[REDIRECT_URI],
            grant_types=("authorization_code", "refresh_token", "client_credentials"))
        return cls(db, alice, app, policy or TokenPolicy(), signer)

    def context(self, now: int, proof: DPoPProof | None = None) -> TokenContext:
        return TokenContext(digester=DIGESTER, now=now, policy=self.policy, issuer=ISSUER,
                            audience=ISSUER, signer=self.signer, proof=proof)

    async def authorize(
        self, *, now: int = T0, client: Client | None = None, extra: dict[str, str] | None = None,
    ) -> str:
        """Validate an authorisation request, approve it as alice, and return the code."""
        client = client or self.app
        params = Params({"client_id": client.client_id, "redirect_uri": REDIRECT_URI,
                         "response_type": "code", "state": "st-1", **(extra or {})})
        async with self.db.transaction(readonly=True) as store:
            request = await validate_request(params, store.clients, issuer=ISSUER)
        async with self.db.transaction() as store:
            location = await approve(request, user_id=self.alice.id, auth_time=now - 5,
                                     store=store, digester=DIGESTER, now=now,
                                     code_ttl=self.policy.code_ttl, issuer=ISSUER)
        query = parse_qs(urlsplit(location).query)
        assert location.startswith(REDIRECT_URI + "?")
        assert query["state"] == ["st-1"] and query["iss"] == [ISSUER]
        return query["code"][0]

    async def token(
        self, form: dict[str, str], *, now: int, client: Client | None = None,
        secret: str | None = SECRET, proof: DPoPProof | None = None,
    ) -> IssuedTokens | OAuthError:
        call = self.call(form, client=client, secret=secret)
        async with self.db.transaction() as store:
            try:
                return (await token_request(call, store, self.context(now, proof)))[1]
            except OAuthError as error:
                return error

    async def tokens(self, form: dict[str, str], *, now: int, client: Client | None = None,
                     secret: str | None = SECRET, proof: DPoPProof | None = None) -> IssuedTokens:
        """``token``, which must succeed."""
        issued = await self.token(form, now=now, client=client, secret=secret, proof=proof)
        assert isinstance(issued, IssuedTokens), issued
        return issued

    def call(self, form: dict[str, str], *, client: Client | None = None,
             secret: str | None = SECRET) -> ClientCall:
        """Client authentication as a confidential client sends it (HTTP Basic), or a public
        client's ``client_id`` in the body."""
        client = client or self.app
        if secret is None:
            return ClientCall(Params({**form, "client_id": client.client_id}), None)
        basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
        return ClientCall(Params(form), f"Basic {basic}")

    async def revoke(self, token: str, *, now: int, client: Client | None = None,
                     secret: str | None = SECRET) -> None:
        call = self.call({"token": token}, client=client, secret=secret)
        async with self.db.transaction() as store:
            await revoke(call, store, self.context(now))

    async def introspect(self, token: str, *, now: int, client: Client | None = None,
                         secret: str | None = SECRET) -> dict[str, object]:
        call = self.call({"token": token}, client=client, secret=secret)
        async with self.db.transaction(readonly=True) as store:
            return await introspect(call, store, self.context(now))

    async def bearer(self, token: str, *, now: int, scope: str = "account",
                     scheme: str = "Bearer",
                     proof: DPoPProof | None = None) -> AccessPrincipal | OAuthError:
        async with self.db.transaction(readonly=True) as store:
            try:
                return await bearer.authenticate(f"{scheme} {token}", store.tokens, DIGESTER,
                                                 now=now, scope=scope, proof=proof)
            except OAuthError as error:
                return error

    async def events(self) -> list[str]:
        """The security log's kinds, oldest first."""
        async with self.db.transaction(readonly=True) as store:
            return [event.kind for event in reversed(await store.events.recent())]
