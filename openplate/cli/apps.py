"""``openplate app create``: its flags are all in ``add_app_create_arguments``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from openplate.cli import app_admin, registration_tokens
from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    for_writing,
    print_fields,
    print_json,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from openplate.store.unit import Database

#: What --grant-type accepts; ``device_code`` is short for RFC 8628's grant type URN.
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", "device_code",
               DEVICE_GRANT]


def add_app_create_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag of ``app create``."""
    add_database_flag(parser)
    parser.add_argument("--owner", required=True, help="username or e-mail of the owner")
    parser.add_argument("--name", required=True)
    parser.add_argument("--redirect-uri", action="append", dest="redirect_uri", metavar="URI",
                        help="a redirect URI (repeat for several)")
    parser.add_argument("--public", action="store_true",
                        help="a public client: no secret, PKCE required")
    parser.add_argument(
        "--grant-type", action="append", dest="grant_type", choices=GRANT_TYPES,
        help="a grant the app may use (repeat for several; default: authorization_code and "
             "refresh_token; device_code: the device authorization grant of RFC 8628)")
    parser.add_argument(
        "--id-token-alg", dest="id_token_alg", choices=["RS256", "ES256", "EdDSA"],
        help="the signature of the app's ID tokens (default: OPENPLATE_SIGNING_ALG)")
    parser.add_argument(
        "--require-par", dest="require_par", action="store_true",
        help="the app must push its authorisation requests first (POST /oauth/par, RFC 9126); "
             "a plain request is refused")
    parser.add_argument("--homepage", metavar="URL",
                        help="the app's homepage, shown on the consent page (https; http only "
                             "for localhost)")
    parser.add_argument("--description", metavar="TEXT",
                        help="what the app does, in plain text (at most 300 characters)")
    parser.add_argument("--privacy-url", dest="privacy_url", metavar="URL",
                        help="the app's privacy policy (https; http only for localhost)")
    parser.add_argument("--logo", metavar="PATH",
                        help="a PNG of at most 512x512 pixels and 256 KiB, shown on the consent page")
    parser.add_argument("--post-logout-redirect-uri", action="append",
                        dest="post_logout_redirect_uri", metavar="URI",
                        help="where /oauth/logout may send the browser back after signing out "
                             "(OIDC post_logout_redirect_uris; repeat for several)")
    parser.add_argument("--backchannel-logout-uri", dest="backchannel_logout_uri", metavar="URL",
                        help="where logout tokens are POSTed when a user's session ends "
                             "(OIDC Back-Channel Logout; https)")
    parser.add_argument("--backchannel-logout-session-required", action="store_true",
                        dest="backchannel_logout_session_required",
                        help="the app needs the sid claim in its logout tokens")
    add_json_flag(parser)


def _read_logo(path: str) -> bytes:
    """The logo file's bytes, reading at most one byte past the limit (the check says why)."""
    from openplate.accounts.app_logos import LOGO_MAX_BYTES

    try:
        with open(path, "rb") as file:
            return file.read(LOGO_MAX_BYTES + 1)
    except OSError as error:
        raise CommandError(f"--logo: cannot read {path}: {error.strerror or error}") from None


def cmd_app_create(args: argparse.Namespace) -> None:
    from openplate.accounts import app_logos, applications
    from openplate.accounts.applications import InvalidApplication
    from openplate.oauth.tokens import Digester

    settings = for_writing(settings_from(args))
    assert settings.secret_key is not None
    digester = Digester(settings.secret_key.encode("utf-8"))

    try:
        # Checked as the registration form checks them, before the database is opened.
        profile = applications.check_profile(
            homepage=args.homepage, description=args.description, privacy_url=args.privacy_url,
            require_homepage=False)
        logo = app_logos.check_logo(_read_logo(args.logo)) if args.logo is not None else None
        logout_uris = applications.check_post_logout_redirect_uris(
            args.post_logout_redirect_uri or [])
        backchannel = applications.check_backchannel_logout_uri(
            args.backchannel_logout_uri, allow_private=settings.allow_private_client_urls)
    except InvalidApplication as error:
        raise CommandError(str(error)) from None

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction() as store:
            owner = await store.users.by_login(args.owner)
            if owner is None:
                raise CommandError(f"no user with username or e-mail '{args.owner}'")
            asked = [DEVICE_GRANT if g == "device_code" else g for g in args.grant_type or []]
            grant_types = applications.check_grant_types(
                list(dict.fromkeys(asked)) or list(applications.CONFIDENTIAL_GRANTS),
                public=args.public,
            )
            needs_uri = "authorization_code" in grant_types
            uris = applications.check_redirect_uris(args.redirect_uri or [], require_one=needs_uri)
            client, secret = await applications.register(
                store, digester, owner_id=owner.id, name=args.name, redirect_uris=uris,
                public=args.public, now=int(time.time()), grant_types=grant_types,
                by_operator=True, id_token_alg=args.id_token_alg or settings.signing_alg,
                profile=profile, logo=logo, require_pushed_authorization_requests=args.require_par,
            )
            if logout_uris or backchannel:
                await store.applications.set_logout(
                    pk=client.pk, post_logout_redirect_uris=logout_uris,
                    backchannel_logout_uri=backchannel,
                    backchannel_logout_session_required=args.backchannel_logout_session_required)
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "name": client.name,
            "owner": owner.username,
            "redirect_uris": list(client.redirect_uris),
            "grant_types": list(client.grant_types),
            "public": client.is_public,
            "id_token_alg": client.id_token_alg,
            "require_pushed_authorization_requests":
                client.require_pushed_authorization_requests,
            "homepage": client.homepage_url,
            "description": client.description,
            "privacy_url": client.privacy_url,
            "logo": f"/applications/{client.client_id}/logo.png" if client.logo_digest else None,
            "post_logout_redirect_uris": logout_uris,
            "backchannel_logout_uri": backchannel,
            "backchannel_logout_session_required": bool(
                backchannel and args.backchannel_logout_session_required),
        }

    try:
        result = run(settings, work)
    except InvalidApplication as error:
        raise CommandError(str(error)) from None
    if args.json:
        print_json(result)
    else:
        print_fields(result)


def register(commands: Any) -> None:
    app = commands.add_parser("app", help="manage OAuth applications").add_subparsers(
        dest="app_command", required=True, metavar="ACTION")
    create = app.add_parser("create", help="register an application")
    add_app_create_arguments(create)
    create.set_defaults(func=cmd_app_create)
    app_admin.register(app)
    registration_tokens.register(app)
