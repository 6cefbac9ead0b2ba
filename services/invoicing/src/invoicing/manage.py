"""Operator commands of the invoicing service: `python -m invoicing.manage connect|credits ...`.

They work straight on invoicing's database (same environment as the service) and are meant for
local stacks, tests and support operations.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from invoicing.adapters.tables import CreditMovement
from invoicing.service import credits, relationships
from invoicing.service.context import Context
from invoicing.settings import Settings
from servicekit.db import make_engine, make_session_factory
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(__file__).parent / "migrations"


async def _run(settings: Settings, command: str, args: argparse.Namespace) -> str:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    ctx = Context(
        source=settings.source, signing_base_url=settings.signing_base_url, welcome_credits=settings.welcome_credits
    )
    try:
        async with make_session_factory(engine)() as session, session.begin():
            if command == "connect":
                row = await relationships.connect(session, args.supplier, args.buyer)
                return f"{row.supplier_company_id} -> {row.buyer_company_id}: {row.status} ({row.id})"
            account = await credits.locked_account(ctx, session, args.company)
            account.balance += args.add
            session.add(account)
            session.add(
                CreditMovement(company_id=args.company, delta=args.add, balance_after=account.balance, kind="operator")
            )
            return f"{args.company}: {account.balance} credits"
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m invoicing.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    connect = sub.add_parser("connect", help="connect a supplier with a buyer at once (an active relationship)")
    connect.add_argument("--supplier", required=True)
    connect.add_argument("--buyer", required=True)
    grant = sub.add_parser("credits", help="add transaction credits to a company (support operations)")
    grant.add_argument("--company", required=True)
    grant.add_argument("--add", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    # The service may not have started yet (first run of a fresh stack): bring the schema up first.
    upgrade_to_head(MIGRATIONS, settings.database_url.get_secret_value())
    print(asyncio.run(_run(settings, args.command, args)))


if __name__ == "__main__":
    main()
