"""The schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

Times are Unix seconds (integers). Secrets are never stored: only their keyed digests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

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
    # The name the account shows; NULL: the username stands in for it.
    Column("display_name", String(64), nullable=True),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
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
)

map_files = Table(
    "map_files",
    metadata,
    Column("map_id", Id, ForeignKey("maps.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # "map" or "thumbnail"
    Column("content", LargeBinary, nullable=False),
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
    Column("client_id", String(64), nullable=True),
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
