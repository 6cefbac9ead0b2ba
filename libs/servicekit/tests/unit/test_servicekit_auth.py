"""Access tokens are verified locally against identity's JWKS, served here by a loopback HTTP server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey

from devstack.local_jwks import LocalJwks
from servicekit.auth import ISSUER, CurrentPrincipal, JwksVerifier, Principal

pytestmark = pytest.mark.unit

JwksServer = LocalJwks  # serves whatever key set a test puts in `keys`, and counts the fetches


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer(keys=[])
    yield server
    server.close()


@pytest.fixture
def signing_key(jwks_server) -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"kid": "identity-1"})
    jwks_server.keys = [key]
    jwks_server.fetches = 0
    return key


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": "u-alice",
        "company_id": "c-atelier",
        "rights": ["invoices:issue", "invoices:read"],
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def es256(key: ECKey, **overrides: object) -> str:
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims(**overrides), key)


async def test_a_valid_es256_token_gives_its_principal(jwks_server, signing_key):
    principal = await JwksVerifier(jwks_server.url).verify(es256(signing_key))
    assert principal == Principal(
        user_id="u-alice", company_id="c-atelier", rights=frozenset({"invoices:issue", "invoices:read"})
    )


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
async def test_a_valid_eddsa_token_is_accepted_too(jwks_server, signing_key):
    ed_key = OKPKey.generate_key("Ed25519", parameters={"kid": "identity-ed"})
    jwks_server.keys = [signing_key, ed_key]
    token = jwt.encode({"alg": "EdDSA", "kid": "identity-ed"}, claims(sub="u-bob"), ed_key, algorithms=["EdDSA"])
    assert (await JwksVerifier(jwks_server.url).verify(token)).user_id == "u-bob"


async def test_an_expired_token_is_refused(jwks_server, signing_key):
    token = es256(signing_key, iat=int(time.time()) - 600, exp=int(time.time()) - 60)
    with pytest.raises(ValueError, match="invalid access token"):
        await JwksVerifier(jwks_server.url).verify(token)


async def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(jwks_server, signing_key):
    impostor = ECKey.generate_key("P-256", parameters={"kid": signing_key.kid})
    with pytest.raises(ValueError, match="invalid access token"):
        await JwksVerifier(jwks_server.url).verify(es256(impostor))


async def test_a_token_signed_by_an_unknown_key_is_refused(jwks_server, signing_key):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "someone-else"})
    with pytest.raises(ValueError, match="invalid access token"):
        await JwksVerifier(jwks_server.url).verify(es256(stranger))
    assert jwks_server.fetches == 2  # an unknown kid may be a rotation: refetched once before refusing


async def test_a_token_without_company_id_is_refused(jwks_server, signing_key):
    with pytest.raises(ValueError, match="no company_id claim"):
        await JwksVerifier(jwks_server.url).verify(es256(signing_key, company_id=None))


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [({"iss": "someone-else"}, None), ({"sub": None}, "sub"), ({"exp": None}, "exp")],
    ids=["foreign-issuer", "no-subject", "no-expiry"],
)
async def test_a_token_with_a_wrong_or_missing_registered_claim_is_refused(
    jwks_server, signing_key, overrides, missing
):
    with pytest.raises(ValueError, match="invalid access token") as caught:
        await JwksVerifier(jwks_server.url).verify(es256(signing_key, **overrides))
    if missing:
        assert missing in str(caught.value)


async def test_a_symmetric_hs256_token_is_refused(jwks_server, signing_key):
    secret = OctKey.generate_key(256, parameters={"kid": signing_key.kid})
    token = jwt.encode({"alg": "HS256", "kid": signing_key.kid}, claims(), secret, algorithms=["HS256"])
    with pytest.raises(ValueError, match="invalid access token"):
        await JwksVerifier(jwks_server.url).verify(token)


async def test_keys_are_fetched_once_and_reused(jwks_server, signing_key):
    verifier = JwksVerifier(jwks_server.url)
    for user in ("u-1", "u-2", "u-3"):
        assert (await verifier.verify(es256(signing_key, sub=user))).user_id == user
    assert jwks_server.fetches == 1


async def test_a_rotated_signing_key_is_picked_up_by_refetching_once(jwks_server, signing_key):
    verifier = JwksVerifier(jwks_server.url)
    await verifier.verify(es256(signing_key))
    rotated = ECKey.generate_key("P-256", parameters={"kid": "identity-2"})
    jwks_server.keys = [rotated, signing_key]
    assert (await verifier.verify(es256(rotated, sub="u-after-rotation"))).user_id == "u-after-rotation"
    assert jwks_server.fetches == 2


# --------------------------------------------------------------------------- the FastAPI dependency


def app_verifying_with(jwks_url: str) -> FastAPI:
    app = FastAPI()
    app.state.jwks_verifier = JwksVerifier(jwks_url)

    @app.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user": principal.user_id, "company": principal.company_id}

    return app


async def call_whoami(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        return await client.get("/whoami", headers=headers or {})


async def test_current_principal_answers_401_without_a_bearer_token(jwks_server, signing_key):
    app = app_verifying_with(jwks_server.url)
    response = await call_whoami(app)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    basic = await call_whoami(app, {"authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert jwks_server.fetches == 0  # refused before any key lookup


async def test_current_principal_answers_401_with_the_reason_for_an_invalid_token(jwks_server, signing_key):
    token = es256(signing_key, company_id=None)
    response = await call_whoami(app_verifying_with(jwks_server.url), {"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "company_id" in response.json()["detail"]


async def test_current_principal_lets_a_valid_token_through(jwks_server, signing_key):
    response = await call_whoami(app_verifying_with(jwks_server.url), {"authorization": f"bearer {es256(signing_key)}"})
    assert response.status_code == 200
    assert response.json() == {"user": "u-alice", "company": "c-atelier"}


async def test_current_principal_answers_503_when_the_keys_cannot_be_fetched(signing_key):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = app_verifying_with(f"http://127.0.0.1:{closed_port}/.well-known/jwks.json")
    response = await call_whoami(app, {"authorization": f"Bearer {es256(signing_key)}"})
    assert response.status_code == 503
    assert "identity keys unavailable" in response.json()["detail"]
