"""Operator commands of the identity service: `python -m identity.manage dev-token ...`."""

from __future__ import annotations

import argparse
import asyncio

from identity.adapters.keys import ensure_signing_key, issue_access_token
from identity.settings import Settings
from servicekit.db import make_engine, make_session_factory


async def dev_token(company_id: str, user_id: str, ttl_s: int) -> str:
    """Mint an access token straight from the database (local stack and tests only)."""
    settings = Settings()
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            key = await ensure_signing_key(session)
        return issue_access_token(key, user_id=user_id, company_id=company_id, rights=[], ttl_s=ttl_s)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m identity.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("dev-token", help="print an access token for a company (development only)")
    token.add_argument("--company", required=True)
    token.add_argument("--user", default="dev-operator")
    token.add_argument("--ttl", type=int, default=600)
    args = parser.parse_args()
    print(asyncio.run(dev_token(args.company, args.user, args.ttl)))


if __name__ == "__main__":
    main()
