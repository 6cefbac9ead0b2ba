"""Operator commands of the identity service: `python -m identity.manage <command> ...`.

- dev-token: mint an access token straight from the database (local stack and tests only);
- create-staff: create a support agent or operator of the Factora staff company and print the
  link where they choose their password (they choose a second factor at their first sign-in);
- openapi: write services/identity/openapi.json from the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from identity.adapters.keys import ensure_signing_key, issue_access_token
from identity.settings import Settings
from servicekit.db import make_engine, make_session_factory

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.json"


async def dev_token(
    company_id: str, user_id: str, ttl_s: int, rights: list[str] | None = None, acr: str = "aal1"
) -> str:
    """Mint an access token straight from the database (local stack and tests only)."""
    settings = Settings()
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            key = await ensure_signing_key(session)
        return issue_access_token(
            key, user_id=user_id, company_id=company_id, rights=rights or [], ttl_s=ttl_s, acr=acr
        )
    finally:
        await engine.dispose()


async def create_staff(email: str, role: str, full_name: str | None, locale: str) -> str:
    """Create an invited staff user; returns the invitation link."""
    from identity.adapters.keys import TokenSigner
    from identity.adapters.passwords import PasswordService
    from identity.service import staff
    from identity.service.context import Context
    from identity.settings import Argon2Settings

    settings = Settings()
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = make_session_factory(engine)
    # No password is hashed here: the cheapest hasher keeps the command quick.
    ctx = Context(
        settings=settings,
        sessions=sessions,
        passwords=PasswordService(Argon2Settings(time_cost=1, memory_kib=8)),
        signer=TokenSigner(sessions),
    )
    try:
        _user, link = await staff.create_staff(ctx, email=email, role=role, full_name=full_name, locale=locale)
        return link
    finally:
        await engine.dispose()


def render_openapi() -> str:
    """The OpenAPI document of the app, as committed (sorted keys, two-space indent)."""
    from identity.bootstrap import build_app

    return json.dumps(build_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m identity.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("dev-token", help="print an access token for a company (development only)")
    token.add_argument("--company", required=True)
    token.add_argument("--user", default="dev-operator")
    token.add_argument("--ttl", type=int, default=600)
    token.add_argument("--rights", default="", help="comma-separated rights, e.g. support:agent,invoices:view")
    token.add_argument("--acr", default="aal1", choices=["aal1", "aal2"], help="assurance level claim")
    staff = sub.add_parser("create-staff", help="create a support agent or operator; prints their invitation link")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", required=True, choices=["agent", "operator"])
    staff.add_argument("--name", default=None, help="full name (default: the part before @)")
    staff.add_argument("--locale", default="en", choices=["fr", "en"])
    api = sub.add_parser("openapi", help="write services/identity/openapi.json")
    api.add_argument("--check", action="store_true", help="exit 1 if the committed document is stale")
    args = parser.parse_args(argv)

    if args.command == "dev-token":
        rights = [r.strip() for r in args.rights.split(",") if r.strip()]
        print(asyncio.run(dev_token(args.company, args.user, args.ttl, rights, args.acr)))
    elif args.command == "create-staff":
        link = asyncio.run(create_staff(args.email, args.role, args.name, args.locale))
        print(f"Invitation for {args.email} ({args.role}); open it to choose a password:")
        print(link)
    else:
        rendered = render_openapi()
        if args.check:
            sys.exit(0 if OPENAPI_PATH.exists() and OPENAPI_PATH.read_text(encoding="utf-8") == rendered else 1)
        OPENAPI_PATH.write_text(rendered, encoding="utf-8")
        print(OPENAPI_PATH)


if __name__ == "__main__":
    main()
