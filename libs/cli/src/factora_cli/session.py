"""The demo's session file: lets `factora verify` and `factora archive get` act as a demo account without --token."""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from factora_cli.accounts import Account, refresh
from factora_cli.api import Api
from factora_cli.mailbox import find_repo_root

SESSION_FILE = "session.json"
SESSION_ENV = "FACTORA_SESSION"
# Refresh a little before the access token's expiry, so it does not lapse in flight.
EXPIRY_MARGIN_S = 30.0


def default_demo_dir() -> Path:
    """`.local/demo/` of the checkout (of the current folder outside one)."""
    return (find_repo_root() or Path.cwd()) / ".local" / "demo"


def default_session_path() -> Path:
    """FACTORA_SESSION, else the session file of the last `factora demo` with the default --out."""
    if explicit := os.environ.get(SESSION_ENV):
        return Path(explicit)
    return default_demo_dir() / SESSION_FILE


def save_session(path: Path, api: str, accounts: dict[str, Account], default: str) -> None:
    """Write the accounts and their tokens (owner-only: it holds passwords and tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"api": api, "default": default, "accounts": {k: a.as_dict() for k, a in accounts.items()}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def load_session(path: Path) -> dict[str, Any]:
    """The session file as written by save_session; ValueError when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the session file {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), dict):
        raise ValueError(f"{path} is not a factora session file")
    return data


def account_from(data: dict[str, Any]) -> Account:
    """An Account from its saved fields (unknown keys are ignored)."""
    known = {f.name for f in fields(Account)}
    return Account(**{k: v for k, v in data.items() if k in known})


def session_token(path: Path, api: Api, role: str | None = None) -> str:
    """A valid access token of the session's account (refreshed and saved back when it expired)."""
    data = load_session(path)
    name = role or data.get("default") or next(iter(data["accounts"]))
    if name not in data["accounts"]:
        raise ValueError(f"the session file {path} has no {name!r} account")
    account = account_from(data["accounts"][name])
    if account.expires_at - EXPIRY_MARGIN_S < time.time():
        refresh(api, account)
        accounts = {k: account_from(v) for k, v in data["accounts"].items()}
        accounts[name] = account
        save_session(path, data.get("api", api.api), accounts, data.get("default") or name)
    return account.access_token
