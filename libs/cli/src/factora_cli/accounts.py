"""A member's way in through identity's HTTP API: sign up, confirm the address, enrol TOTP, sign in with it."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyotp

from factora_cli.api import Api
from factora_cli.mailbox import Mail, wait_for_mail

TOTP_STEP_S = 30


class FlowProblem(Exception):
    """A step got an answer it cannot go on with; the message says what and what to do."""


@dataclass
class Account:
    """A demo member: how to sign in, and the tokens of its current session."""

    role: str
    company_name: str
    email: str
    password: str
    totp_secret: str = ""
    company_id: str = ""
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0
    rights: list[str] = field(default_factory=list)
    acr: str = ""
    last_totp_step: int = 0  # identity refuses a TOTP code of a step already used

    def public(self) -> dict[str, Any]:
        """What the demo shows: the sign-in details, not the tokens."""
        return {
            "role": self.role,
            "company": self.company_name,
            "company_id": self.company_id,
            "email": self.email,
            "password": self.password,
            "totp_secret": self.totp_secret,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the session file."""
        return asdict(self)

    def take_tokens(self, tokens: dict[str, Any], now: float) -> None:
        """Keep the tokens of a sign-in or refresh answer."""
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        self.expires_at = now + float(tokens.get("expires_in", 0))
        self.company_id = tokens.get("company_id", self.company_id)
        self.user_id = tokens.get("user_id", self.user_id)
        self.rights = list(tokens.get("rights", self.rights))
        self.acr = tokens.get("acr", self.acr)


def sign_up(api: Api, account: Account, body: dict[str, Any]) -> None:
    """POST /signup: the company and its administrator, who must then confirm the address."""
    api.request("POST", "identity", "/signup", json=body, what=f"sign-up of {account.email}", ok=(202,))


def confirmation_mail(mail_dir: Path, email: str, timeout: float) -> Mail:
    """The confirmation e-mail sent to `email`, with its link."""
    return wait_for_mail(
        mail_dir,
        lambda m: m.addressed_to(email) and "confirm" in m.subject.lower() and m.link_token() is not None,
        timeout=timeout,
        what=f"the confirmation e-mail to {email}",
    )


def confirm_address(api: Api, mail: Mail) -> None:
    """POST /signup/verify-email with the token of the e-mailed link."""
    token = mail.link_token()
    if token is None:
        raise FlowProblem(f"the confirmation e-mail {mail.path} has no link with a token")
    api.request("POST", "identity", "/signup/verify-email", json={"token": token}, what="e-mail confirmation")


def current_step(now: float | None = None) -> int:
    """The TOTP time step of `now`."""
    return int((time.time() if now is None else now) // TOTP_STEP_S)


def totp_code(secret: str, step: int) -> str:
    """The 6-digit code of one time step, as an authenticator app shows it."""
    return pyotp.TOTP(secret).at(step * TOTP_STEP_S)


def next_usable_step(account: Account, now: float | None = None) -> int:
    """The current step, or the next one when the current was used (identity accepts one step of drift)."""
    return max(current_step(now), account.last_totp_step + 1)


def password_step(api: Api, account: Account, expected: str) -> str:
    """POST /login with e-mail and password; the mfa_token of a sign-in that needs `expected`."""
    answer = api.post_json(
        "identity", "/login", {"email": account.email, "password": account.password}, what="sign-in (password)"
    )
    if answer.get("status") != expected:
        raise FlowProblem(f"sign-in of {account.email}: expected {expected}, identity answered {answer.get('status')}")
    return str(answer["mfa_token"])


def enrol_totp(api: Api, account: Account) -> list[str]:
    """First sign-in: choose the authenticator app, confirm with a code; returns the recovery codes."""
    mfa_token = password_step(api, account, "mfa_enrolment_required")
    setup = api.post_json(
        "identity", "/login/mfa/enrol", {"mfa_token": mfa_token, "method": "totp"}, what="TOTP enrolment"
    )
    if not setup.get("secret"):
        raise FlowProblem("identity's TOTP enrolment gave no secret")
    account.totp_secret = setup["secret"]
    step = current_step()
    done = api.post_json(
        "identity",
        "/login/mfa/enrol/confirm",
        {"mfa_token": mfa_token, "code": totp_code(account.totp_secret, step)},
        what="TOTP confirmation",
    )
    account.last_totp_step = step
    account.take_tokens(done, time.time())
    return list(done.get("recovery_codes") or [])


def sign_in(api: Api, account: Account) -> None:
    """A full sign-in: password, then a TOTP code; leaves an aal2 session on the account."""
    mfa_token = password_step(api, account, "mfa_required")
    step = next_usable_step(account)
    tokens = api.post_json(
        "identity",
        "/login/mfa/verify",
        {"mfa_token": mfa_token, "method": "totp", "code": totp_code(account.totp_secret, step)},
        what="sign-in (TOTP code)",
    )
    account.last_totp_step = step
    account.take_tokens(tokens, time.time())
    if account.acr != "aal2":
        raise FlowProblem(f"the sign-in of {account.email} gave acr={account.acr!r}, not aal2")


def refresh(api: Api, account: Account) -> None:
    """Exchange the refresh token for new tokens (each refresh token works once)."""
    tokens = api.post_json("identity", "/token/refresh", {"refresh_token": account.refresh_token}, what="token refresh")
    account.take_tokens(tokens, time.time())
