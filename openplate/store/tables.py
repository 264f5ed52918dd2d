"""The schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

Times are Unix seconds (integers). Secrets are never stored: only their keyed digests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite needs INTEGER PRIMARY KEY for auto-increment; PostgreSQL gets BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
Time = BigInteger

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False),
    Column("username_key", String(40), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("password_changed_at", Time, nullable=False),
    # When the operator disabled the account (openplate user disable); NULL while enabled.
    Column("disabled_at", Time, nullable=True),
    # When the current address was shown to be the user's (a verification link); NULL: not yet.
    Column("email_verified_at", Time, nullable=True),
    # The name the account shows; NULL: the username stands in for it.
    Column("display_name", String(64), nullable=True),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # An opc_ id we made, or (client ID metadata documents) the https URL of its document.
    Column("client_id", String(1000), nullable=False, unique=True),
    # NULL for an app that registered itself with no owner (OPENPLATE_REGISTRATION=open).
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("name", String(100), nullable=False),
    Column("secret_digest", String(64), nullable=True),
    Column("secret_hint", String(8), nullable=True),
    Column("redirect_uris", Text, nullable=False, default="[]"),
    Column("require_pkce", Boolean, nullable=False, default=False),
    Column("grant_types", Text, nullable=False, default="authorization_code refresh_token"),
    # id_token_signed_response_alg (RS256, ES256, EdDSA); NULL follows OPENPLATE_SIGNING_ALG.
    Column("id_token_alg", String(16), nullable=True),
    Column("created_at", Time, nullable=False),
    Column("secret_rotated_at", Time, nullable=False),
    # When the app became trusted for automatic error redirects (oauth/authorize.py
    # may_redirect_unseen): registered by the operator, or first allowed by a user not its owner.
    Column("trusted_at", Time, nullable=True),
    # What the consent page shows (accounts/applications.py checks them): the homepage (required
    # for apps registered since 0009), a plain-text description, the privacy policy, and the
    # SHA-256 of the logo in client_logos (NULL: none).
    Column("homepage_url", String(500), nullable=True),
    Column("description", String(300), nullable=True),
    Column("privacy_url", String(500), nullable=True),
    Column("logo_digest", String(64), nullable=True),
    # When the operator disabled the application (openplate app disable); NULL while enabled.
    Column("disabled_at", Time, nullable=True),
    # RFC 9126 §6: its authorisation requests must be pushed first (POST /oauth/par).
    Column("require_pushed_authorization_requests", Boolean, nullable=False, default=False,
           server_default=false()),
    # How an app that registered itself did it: "token" (RFC 7591 with an initial access token
    # from the operator), "open" (RFC 7591 on an open server) or "metadata" (its client_id is the
    # URL of its client ID metadata document); NULL: registered by a person or the operator at
    # /applications or with the CLI.
    Column("registration", String(16), nullable=True),
    # RFC 7592: the keyed digest of its registration access token (NULL: not managed that way).
    Column("registration_token_digest", String(64), nullable=True),
    # OIDC Dynamic Registration's application_type: "web" or "native" (NULL: web).
    Column("application_type", String(8), nullable=True),
    # Registered metadata that decides nothing here but is given back to its client (RFC 7591
    # §3.2.1), as a JSON object: token_endpoint_auth_method, contacts, software_id, ...
    Column("registered_metadata", Text, nullable=True),
    # RFC 9449 §5.2 dpop_bound_access_tokens: every token request must carry a DPoP proof.
    Column("dpop_bound_access_tokens", Boolean, nullable=False, server_default=false()),
    # OIDC RP-Initiated Logout §3.1 post_logout_redirect_uris (a JSON list, matched exactly)
    # and Back-Channel Logout §2.2 backchannel_logout_uri / _session_required.
    Column("post_logout_redirect_uris", Text, nullable=False, server_default="[]"),
    Column("backchannel_logout_uri", String(2000), nullable=True),
    Column("backchannel_logout_session_required", Boolean, nullable=False,
           server_default=false()),
    # A client ID metadata document's app ("metadata"): when its document is to be fetched again.
    Column("metadata_expires_at", Time, nullable=True),
)

# RFC 7591 §3 initial access tokens (`openplate app registration-token`): what lets a client
# register itself when OPENPLATE_REGISTRATION=token. Only the keyed digest is kept.
registration_tokens = Table(
    "registration_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    # The account the registered apps belong to (NULL: they have no owner).
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("note", String(100), nullable=True),
    Column("uses_left", Integer, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
)

# An application's logo: a PNG that passed accounts/app_logos.py, as Pillow re-encoded it.
client_logos = Table(
    "client_logos",
    metadata,
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("png", LargeBinary, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("updated_at", Time, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scope", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("revoked_at", Time, nullable=True),
    Column("last_used_at", Time, nullable=True),
    Column("auth_time", Time, nullable=True),  # when the user signed in (OIDC auth_time)
    # A client-credentials grant: its tokens speak for the client, not for its owner.
    Column("for_client", Boolean, nullable=False, server_default=false()),
    # How the user signed in (RFC 8176 amr values, space-separated): the ID tokens' amr and acr.
    Column("amr", String(64), nullable=True),
    # RFC 8707: the resources the user authorised it for (space-separated); NULL: none named.
    Column("resource", String(500), nullable=True),
    # The OIDC sid of the browser session it was granted in (sessions.sid): its ID tokens carry
    # it, and its client hears when that session ends (Back-Channel Logout).
    Column("sid", String(64), nullable=True, index=True),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("grant_id", Id, ForeignKey("grants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("client_pk", Id, nullable=False),
    Column("user_id", Id, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("code_challenge", String(64), nullable=True),
    Column("nonce", String(512), nullable=True),
    Column("auth_time", Time, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("used_at", Time, nullable=True),
    Column("amr", String(64), nullable=True),
    Column("resource", String(500), nullable=True),  # RFC 8707, as its grant's
    # RFC 9449 §10 dpop_jkt: redeemed only with a DPoP proof of this key (its thumbprint).
    Column("dpop_jkt", String(43), nullable=True),
    Column("sid", String(64), nullable=True),  # the grant's sid (OIDC Back-Channel Logout §2.4)
)

# RFC 8628: a device authorisation. Its device code and user code are stored only as keyed
# digests; the user code's is not unique (a code may come back once its holder has expired), but
# no two unexpired ones share it (openplate/oauth/device.py).
device_codes = Table(
    "device_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("device_digest", String(64), nullable=False, unique=True),
    Column("user_digest", String(64), nullable=False, index=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("scope", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("poll_interval", Integer, nullable=False),
    Column("last_polled_at", Time, nullable=True),
    # "pending", then "allowed" or "denied"
    Column("status", String(8), nullable=False),
    Column("claimed_by", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("decided_at", Time, nullable=True),
    Column("auth_time", Time, nullable=True),
    Column("amr", String(64), nullable=True),
    Column("used_at", Time, nullable=True),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("grant_id", Id, ForeignKey("grants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("client_pk", Id, nullable=False),
    Column("user_id", Id, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("revoked_at", Time, nullable=True),
    # RFC 8707: the resources it is for (space-separated); NULL: the API.
    Column("resource", String(500), nullable=True),
    # RFC 9449: the thumbprint of the DPoP key the token is bound to; NULL for a bearer token.
    Column("jkt", String(43), nullable=True),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("grant_id", Id, ForeignKey("grants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("client_pk", Id, nullable=False),
    Column("user_id", Id, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("used_at", Time, nullable=True),
    Column("revoked_at", Time, nullable=True),
    # Set with used_at: the stamp of the successors (see openplate.oauth.tokens), so a retry in
    # the grace window can derive the very same ones.
    Column("successor_stamp", String(16), nullable=True),
    # The digest of the access token minted with this one: a retry of the rotation that made
    # it finds that access token through this, without rebuilding it (see refresh_token.py).
    Column("access_digest", String(64), nullable=True),
    # RFC 9449 §5: a public client's refresh token is bound to its DPoP key (thumbprint).
    Column("jkt", String(43), nullable=True),
)

# RFC 9449 §11.1: the DPoP proofs seen (keyed digest of key thumbprint and jti) until they are
# too old to be accepted anyway; the table stands in for Redis (store/dpop_ledger.py).
dpop_proofs = Table(
    "dpop_proofs",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", Time, nullable=False, index=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("csrf_token", String(64), nullable=False),
    # A one-time notice, sealed (it may carry a secret shown once), and when it stops counting.
    Column("flash", Text, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("auth_time", Time, nullable=True),
    Column("expires_at", Time, nullable=False, index=True),
    # How the user signed in (RFC 8176 amr values, space-separated); NULL while anonymous.
    Column("amr", String(64), nullable=True),
    Column("flash_expires_at", Time, nullable=True, index=True),
    # For the list of signed-in browsers: the User-Agent (cut short), the address, and when the
    # session was last seen (written at most once every few minutes; see web/sessions.py).
    Column("user_agent", String(256), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("last_seen_at", Time, nullable=True),
    # The session's OIDC sid (Back-Channel Logout §2.4): random, never the cookie or the row id
    # (a SQLite row id may come again); NULL for sessions opened before 0016.
    Column("sid", String(32), nullable=True, index=True, unique=True),
)

# Authorisation requests parked while the user signs in and decides (two-phase authorise).
auth_requests = Table(
    "auth_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("handle", String(64), nullable=False, unique=True),
    # NULL until a browser session claims it (a request POSTed cross-site arrives without one).
    Column("session_id", Id, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("request", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    # When the user signed in, in this browser, after the request was parked (prompt=login, max_age).
    Column("signed_in_at", Time, nullable=True),
    # A signed-out browser's binding (keyed digest of its form cookie) until a session claims it.
    Column("browser_digest", String(64), nullable=True),
)

# Pushed authorisation requests (RFC 9126), by the keyed digest of their request_uri; used once.
pushed_requests = Table(
    "pushed_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False,
           index=True),
    # The pushed parameters, a JSON object (never a client secret).
    Column("params", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("used_at", Time, nullable=True),
)

# The library's categories, a list the operator keeps (openplate category add|list|remove).
categories = Table(
    "categories",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("created_at", Time, nullable=False),
)

maps = Table(
    "maps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(16), nullable=False, unique=True),
    Column("slug", String(80), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="SET NULL"), nullable=True),
    Column("format", String(16), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("media_type", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("has_thumbnail", Boolean, nullable=False),
    Column("outline", Text, nullable=False),
    Column("topic_count", Integer, nullable=False),
    Column("created_at", Time, nullable=False, index=True),
    # public (listed and searchable), unlisted (only by its link) or private (its owner only);
    # see store/map_fields.py. Maps from before 0014 and the XMind plug-in's uploads: public.
    Column("visibility", String(10), nullable=False, server_default="public"),
    Column("category_id", Id, ForeignKey("categories.id", ondelete="SET NULL"), nullable=True),
    # When the owner last changed the title, description, tags, visibility or category.
    Column("updated_at", Time, nullable=False, server_default="0"),
    # Views counted once per viewer and day (map_views; SqlMaps.record_view).
    Column("view_count", Integer, nullable=False, server_default="0"),
    # Every topic title and note, one a line: the topic part of what search looks in
    # (map_search holds its keys; store/map_search.py).
    Column("search_text", Text, nullable=False, server_default=""),
    # The lists: public maps newest first, most viewed first, an author's and a category's,
    # newest first.
    Index("ix_maps_visibility_created_at_id", "visibility", "created_at", "id"),
    Index("ix_maps_visibility_view_count_id", "visibility", "view_count", "id"),
    Index("ix_maps_owner_id_created_at_id", "owner_id", "created_at", "id"),
    Index("ix_maps_category_id_created_at_id", "category_id", "created_at", "id"),
)

map_files = Table(
    "map_files",
    metadata,
    Column("map_id", Id, ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # "map" or "thumbnail"
    Column("content", LargeBinary, nullable=False),
)

# A map's tags, in their stored form (store/map_fields.py normalise_tag), at most ten a map.
map_tags = Table(
    "map_tags",
    metadata,
    Column("map_id", Id, ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("tag", String(40), primary_key=True),
    Index("ix_map_tags_tag_map_id", "tag", "map_id"),
)

# Who has seen a map on which day: a keyed digest of the viewer (never an address or a session
# id as such) and the day (Unix days). A view counts once per viewer and day.
map_views = Table(
    "map_views",
    metadata,
    Column("map_id", Id, ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("viewer", String(64), primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),
    Index("ix_map_views_day", "day"),
)

# What full-text search matches: the keys of a map's title, description and topic text
# (store/map_search.py). On SQLite the FTS5 table map_search_fts indexes these columns (kept in
# step by triggers, store/search_schema.py). On PostgreSQL three tsvectors of them, each with a
# GIN index (and statistics of its own, so the planner knows how common a word is in titles
# alone): the title's keys, the title's and description's, and all of them; NULL on SQLite.
_TSVECTOR = TSVECTOR().with_variant(Text(), "sqlite")
map_search = Table(
    "map_search",
    metadata,
    Column("map_id", Id, ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("title_keys", Text, nullable=False),
    Column("description_keys", Text, nullable=False),
    Column("topic_keys", Text, nullable=False),
    Column("title_words", _TSVECTOR, nullable=True),
    Column("text_words", _TSVECTOR, nullable=True),
    Column("all_words", _TSVECTOR, nullable=True),
    # fastupdate off: a search never reads through a pending list of recent inserts (which
    # made a rare word's lookup scan megabytes until the next vacuum); an upload pays instead.
    *(Index(f"ix_map_search_{name}", name, postgresql_using="gin",
            postgresql_with={"fastupdate": "off"}, sqlite_where=text(f"{name} IS NOT NULL"))
      for name in ("title_words", "text_words", "all_words")),
)

# What a user has allowed an application, remembered so the same request skips the consent page.
consents = Table(
    "consents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scope", String(200), nullable=False),
    Column("granted_at", Time, nullable=False),
    UniqueConstraint("user_id", "client_pk"),
)

# Append-only: triggers (migrations 0002 and 0006) refuse UPDATE and DELETE, but for the purge.
security_events = Table(
    "security_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Time, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("user_id", Id, nullable=True, index=True),
    Column("client_id", String(1000), nullable=True),  # a URL, for a metadata document's app
    Column("ip", String(64), nullable=True),
    Column("detail", Text, nullable=False, default="{}"),
)

# The security log's retention purge: the bound below which its DELETE may remove events, one
# row, present only inside the purge's own transaction (append_only.py, purge_repo.py).
security_log_purge = Table(
    "security_log_purge",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("delete_before", Time, nullable=False),
)

# Failure counters for brute-force throttling; keys are digests (no logins or addresses at rest).
throttle = Table(
    "throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_start", Time, nullable=False),
    Column("failures", Integer, nullable=False),
)

# Token-signing keys (JWKS). Private halves are encrypted with a key derived from the instance key.
# A key is published as "next" before it signs, signs while "current", and stays published as
# "retired" until every token it signed has expired.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("private_encrypted", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("activated_at", Time, nullable=True),
    Column("retired_at", Time, nullable=True),
)

# Two-factor sign-in (TOTP, RFC 6238): one authenticator per user. The secret is sealed with
# AES-256-GCM under a key derived from the instance key (accounts/second_factor.py); the last
# step a code was accepted for makes each code single-use (RFC 6238 §5.2).
totp_authenticators = Table(
    "totp_authenticators",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("secret_sealed", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    # NULL while enrolling: the user has not typed a first valid code yet.
    Column("confirmed_at", Time, nullable=True),
    Column("last_step", BigInteger, nullable=True),
)

# Recovery codes: keyed digests only, each consumed once (used_at set atomically).
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", Time, nullable=False),
    Column("used_at", Time, nullable=True),
)

# Half-signed-in browsers: the password was right, the second factor is still to come. Bound to
# the browser by a cookie whose keyed digest is stored here; never in a URL.
second_factor_waits = Table(
    "second_factor_waits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # Where the sign-in goes on to (a same-site path), and the signed-out browser's binding of a
    # parked authorisation request (web/interaction.py browser_digest).
    Column("next_path", Text, nullable=False),
    Column("browser_digest", String(64), nullable=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
)

# Passkeys (WebAuthn Level 2): public keys only; the private key never leaves the authenticator.
passkeys = Table(
    "passkeys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # The credential id, base64url (at most 1023 bytes by WebAuthn Level 2 §5.1).
    Column("credential_id", String(1400), nullable=False, unique=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("name", String(64), nullable=False),
    # Synced between devices (backup eligible): a software-secured key (RFC 8176 swk), else hwk.
    Column("multi_device", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("last_used_at", Time, nullable=True),
)

# WebAuthn challenges: single use (DELETE … RETURNING), short-lived, bound to the browser that
# asked (a keyed digest of its session, form cookie or half-signed-in cookie) and to a purpose.
webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("challenge", String(128), nullable=False, unique=True),
    Column("purpose", String(16), nullable=False),
    Column("binding", String(64), nullable=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
)
# Mail waiting to be sent, and sent mail until the purge (openplate/mail/). A body may hold a
# one-time link (that is its point); bodies are blanked once the message is sent.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("text_body", Text, nullable=True),
    Column("html_body", Text, nullable=True),
    Column("created_at", Time, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Due from then; a worker that claims it holds it until ``claimed_until`` (store/mail_repos.py).
    Column("next_attempt_at", Time, nullable=False, index=True),
    Column("claimed_until", Time, nullable=True),
    Column("sent_at", Time, nullable=True, index=True),
    Column("last_error", String(500), nullable=True),
)

# OIDC Back-Channel Logout 1.0: a logout token owed to a client, queued in the unit of work that
# ended the session and delivered by one worker at a time (store/backchannel_repos.py).
backchannel_logouts = Table(
    "backchannel_logouts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_pk", Id, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("subject", String(64), nullable=False),  # the token's sub
    Column("sid", String(64), nullable=True),  # the token's sid (None: sub only)
    Column("jti", String(64), nullable=False, unique=True),
    Column("created_at", Time, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Time, nullable=False, index=True),
    Column("claimed_until", Time, nullable=True),
    # Set once: delivered (200/204), or given up on after the retry window.
    Column("delivered_at", Time, nullable=True),
    Column("gave_up_at", Time, nullable=True),
    Column("last_error", String(500), nullable=True),
)

# One-time links: password resets and e-mail verifications. Only a keyed digest of the token.
password_resets = Table(
    "password_resets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("used_at", Time, nullable=True),
    # The authorisation request parked when the visitor asked (kept going after the reset).
    Column("next_path", String(200), nullable=True),
)

email_verifications = Table(
    "email_verifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # The address the link proves: the account's current one, or the new one it changes to.
    Column("email", String(254), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False, index=True),
    Column("used_at", Time, nullable=True),
)
