"""Public endpoints: sign-up, e-mail confirmation, sign-in with MFA, tokens, recovery, invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from identity.domain.errors import NotAuthenticated
from identity.entrypoints.deps import ERRORS, CallerDep, ClientInfo, Ctx, caller
from identity.entrypoints.schemas import (
    Accepted,
    AcceptInvitationIn,
    Done,
    EmailIn,
    EnrolConfirmIn,
    EnrolIn,
    EnrolmentOut,
    ForgotUsernameIn,
    LoginIn,
    LoginStepOut,
    LogoutIn,
    MfaSendIn,
    MfaVerifyIn,
    RefreshIn,
    ResetPasswordIn,
    SignUpIn,
    TokenIn,
    TokensOut,
)
from identity.service import login, recovery, sessions, signup, users
from identity.service.login import LoginStep
from identity.service.sessions import IssuedTokens

router = APIRouter(responses=ERRORS)


def tokens_out(issued: IssuedTokens) -> TokensOut:
    return TokensOut.model_validate(issued, from_attributes=True)


def step_out(step: LoginStep) -> LoginStepOut:
    return LoginStepOut.model_validate(step, from_attributes=True)


@router.post("/signup", status_code=202, tags=["sign-up"], summary="Create a company and its administrator.")
async def sign_up(body: SignUpIn, ctx: Ctx, client: ClientInfo) -> Accepted:
    """The administrator confirms their e-mail address from the link we send, then signs in and chooses a
    second factor. The answer is the same when the address already has an account (its owner is reminded
    of their login instead)."""
    c, u = body.company, body.user
    await signup.sign_up(
        ctx,
        signup.CompanyDetails(
            legal_name=c.legal_name,
            country=c.country,
            vat_id=c.vat_id,
            tax_id=c.tax_id,
            address_line1=c.address.line1,
            address_line2=c.address.line2,
            postcode=c.address.postcode,
            city=c.address.city,
            region=c.address.region,
            locale=c.locale,
        ),
        signup.FirstUser(
            email=str(u.email), full_name=u.full_name, password=u.password, locale=u.locale, phone=u.phone
        ),
        client,
    )
    return Accepted(
        status="accepted",
        detail="Check your mailbox: we have sent a link to confirm the address. It is valid for 48 hours.",
    )


@router.post("/signup/verify-email", tags=["sign-up"], summary="Confirm the e-mail address from the link.")
async def verify_email(body: TokenIn, ctx: Ctx, client: ClientInfo) -> Done:
    await signup.verify_email(ctx, body.token, client)
    return Done(status="verified", detail="Your address is confirmed. Sign in to choose your second factor.")


@router.post("/signup/resend-verification", status_code=202, tags=["sign-up"], summary="Send a new confirmation link.")
async def resend_verification(body: EmailIn, ctx: Ctx, client: ClientInfo) -> Accepted:
    await signup.resend_verification(ctx, str(body.email), client)
    return Accepted(status="accepted", detail="If this address is waiting for confirmation, a new link is on its way.")


@router.post("/login", tags=["sign-in"], summary="First step of a sign-in: e-mail and password.")
async def sign_in(body: LoginIn, ctx: Ctx, client: ClientInfo) -> LoginStepOut:
    """Never says whether the address has an account: a wrong password and an unknown address get the same
    401, in the same time. Repeated failures slow down further attempts (429 with Retry-After)."""
    return step_out(await login.login(ctx, str(body.email), body.password, body.device_token, client))


@router.post("/login/mfa/verify", tags=["sign-in"], summary="Second step: a code, or a recovery code.")
async def mfa_verify(body: MfaVerifyIn, ctx: Ctx, client: ClientInfo) -> TokensOut | LoginStepOut:
    """Codes are single-use; a TOTP code cannot be replayed; after a few wrong codes the sign-in is void.
    When the company requires an authenticator app and the user has none yet, the answer asks to enrol one."""
    result = await login.verify(
        ctx, body.mfa_token, code=body.code, method=body.method, recovery_code=body.recovery_code, client=client
    )
    return tokens_out(result) if isinstance(result, IssuedTokens) else step_out(result)


@router.post("/login/mfa/send-code", tags=["sign-in"], summary="Send a new SMS or e-mail code.")
async def mfa_send(body: MfaSendIn, ctx: Ctx, client: ClientInfo) -> Accepted:
    sent_to = await login.send_another_code(ctx, body.mfa_token, body.method, client)
    return Accepted(status="accepted", detail=f"A new code was sent to {sent_to}.")


@router.post("/login/mfa/enrol", tags=["sign-in"], summary="First sign-in: choose a second factor.")
async def mfa_enrol(body: EnrolIn, ctx: Ctx, client: ClientInfo) -> EnrolmentOut:
    """totp returns the secret, the otpauth URI and a QR code; sms and email send a confirmation code."""
    setup = await login.start_enrolment(ctx, body.mfa_token, body.method, body.phone, client)
    return EnrolmentOut.model_validate(setup, from_attributes=True)


@router.post("/login/mfa/enrol/confirm", tags=["sign-in"], summary="Confirm the new factor with a code.")
async def mfa_enrol_confirm(body: EnrolConfirmIn, ctx: Ctx, client: ClientInfo) -> TokensOut:
    """Completes the sign-in; the answer carries ten recovery codes, shown only this once."""
    return tokens_out(await login.confirm_enrolment(ctx, body.mfa_token, body.code, client))


@router.post("/token/refresh", tags=["sessions"], summary="Exchange a refresh token for new tokens.")
async def refresh(body: RefreshIn, ctx: Ctx, client: ClientInfo) -> TokensOut:
    """The refresh token is single-use: presenting one that was already exchanged closes the whole session."""
    return tokens_out(await sessions.refresh(ctx, body.refresh_token, client))


@router.post("/logout", status_code=204, tags=["sessions"], summary="Sign out of this session.")
async def sign_out(request: Request, ctx: Ctx, client: ClientInfo, body: LogoutIn | None = None) -> Response:
    """With the access token (Authorization header), or with the refresh token when the access token expired."""
    if request.headers.get("authorization"):
        await sessions.logout(ctx, await caller(request), client)
    elif body is not None and body.refresh_token:
        await sessions.logout_with_refresh_token(ctx, body.refresh_token, client)
    else:
        raise NotAuthenticated("Send your access token, or your refresh token in the body.")
    return Response(status_code=204)


@router.post("/logout/all", status_code=204, tags=["sessions"], summary="Sign out everywhere.")
async def sign_out_everywhere(who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    """Ends every session of the account, on every device, this one included."""
    await sessions.logout_everywhere(ctx, who, client)
    return Response(status_code=204)


@router.post("/password/forgot", status_code=202, tags=["recovery"], summary="Ask for a password-reset link.")
async def forgot_password(body: EmailIn, ctx: Ctx, client: ClientInfo) -> Accepted:
    await recovery.forgot_password(ctx, str(body.email), client)
    return Accepted(
        status="accepted",
        detail="If an account uses this address, we have sent it a link to choose a new password, "
        "valid for 30 minutes.",
    )


@router.post("/password/reset", tags=["recovery"], summary="Choose a new password from the reset link.")
async def reset_password(body: ResetPasswordIn, ctx: Ctx, client: ClientInfo) -> Done:
    """Every session of the account ends; the next sign-in still needs the second factor."""
    await recovery.reset_password(ctx, body.token, body.new_password, client)
    return Done(status="password_changed", detail="Sign in with your new password and your second factor.")


@router.post("/username/forgot", status_code=202, tags=["recovery"], summary="Get a reminder of the login.")
async def forgot_username(body: ForgotUsernameIn, ctx: Ctx, client: ClientInfo) -> Accepted:
    await recovery.forgot_username(ctx, str(body.email) if body.email else None, body.phone, body.country, client)
    return Accepted(
        status="accepted",
        detail="If this matches an account, a reminder of its login was sent to that account's e-mail address.",
    )


@router.post("/invitations/accept", tags=["sign-up"], summary="Accept an invitation: choose a password.")
async def accept_invitation(body: AcceptInvitationIn, ctx: Ctx, client: ClientInfo) -> Done:
    await users.accept_invitation(ctx, body.token, body.password, body.full_name, client)
    return Done(status="active", detail="Your access is ready. Sign in to choose your second factor.")
