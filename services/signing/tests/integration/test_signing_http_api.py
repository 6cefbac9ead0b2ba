"""The signing app over HTTP on real PostgreSQL and Kafka: export bundles and seal verification, parties only."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from joserfc import jwt
from joserfc.jwk import ECKey

import signing
from devstack.local_jwks import LocalJwks
from servicekit.auth import ISSUER
from servicekit.migrations import upgrade_to_head
from servicekit.settings import KafkaSettings
from signing.adapters import archive
from signing.adapters.tables import ArchivedDocument
from signing.bootstrap import build_app
from signing.documents import PadesSealer, make_invoice_pdf
from signing.documents.samples import BUYER, SELLER, standard_invoice
from signing.domain.retention import retain_until
from signing.settings import Settings

pytestmark = pytest.mark.integration

MIGRATIONS = Path(signing.__file__).parent / "migrations"
OUTSIDER = "33333333-3333-4333-8333-333333333333"
MAX_BYTES = 1024 * 1024
BOUND_S = 5.0


@pytest.fixture(scope="module")
def identity_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "identity-test"})


@pytest.fixture(scope="module")
def jwks_url(identity_key) -> Iterator[str]:
    server = LocalJwks([identity_key])
    yield server.url
    server.close()


def bearer(key: ECKey, company_id: str) -> dict[str, str]:
    """An access token as identity mints it, without rights (the e2e tokens carry none either)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": f"u-{company_id[:8]}", "company_id": company_id, "iat": now, "exp": now + 600}
    return {"authorization": f"Bearer {jwt.encode({'alg': 'ES256', 'kid': key.kid}, claims, key)}"}


@pytest.fixture(scope="module")
async def service(fresh_database, kafka_broker, jwks_url, tmp_path_factory):
    url = await fresh_database("signing_http")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    settings = Settings(
        database_url=url,
        IDENTITY_JWKS_URL=jwks_url,  # the field is read under identity's variable name
        pki_dir=tmp_path_factory.mktemp("signing-http") / "pki",
        sealing_workers=1,
        verify_workers=1,
        verify_max_bytes=MAX_BYTES,
        verify_timeout_s=BOUND_S,
        # A consumer group of its own, so this app never takes invoices meant for another test.
        service_name=f"signing-http-test-{uuid.uuid4().hex[:8]}",
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap),
    )
    app = build_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        await app.state.sandbox.wait_ready()
        yield app, settings


@pytest.fixture(scope="module")
async def client(service) -> Iterator[httpx.AsyncClient]:
    app, _ = service
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://signing.test") as c:
        yield c


@pytest.fixture(scope="module")
async def archived(service) -> ArchivedDocument:
    """An invoice sealed with the service's own (development) seal and appended to its archive."""
    app, settings = service
    document = standard_invoice()
    pdf, xml = make_invoice_pdf(document, "fr")
    sealer = PadesSealer.from_pkcs12(settings.pki_dir / "seal.p12", settings.pkcs12_passphrase.get_secret_value())
    sealed = await asyncio.to_thread(sealer.seal, pdf)
    async with app.state.runtime.sessions() as session, session.begin():
        entry = await archive.append(
            session,
            ArchivedDocument(
                invoice_id=str(uuid.uuid4()),
                invoice_number=document.number,
                seller_company_id=SELLER.company_id,
                buyer_company_id=BUYER.company_id,
                seller_country="FR",
                buyer_country="BE",
                pdf=sealed,
                xml=xml,
                sha256=hashlib.sha256(sealed).hexdigest(),
                previous_chain_hash="",
                chain_hash="",
                sequence=0,
                signature_level="B-B",
                retain_until=retain_until(document.issue_date, "FR", "BE"),
            ),
        )
    return entry


async def timed_post(client: httpx.AsyncClient, *args, **kwargs) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post(*args, **kwargs)
    return response, time.monotonic() - started


# --------------------------------------------------------------------------- export bundle


async def test_the_bundle_holds_the_pdf_the_xml_and_a_report_with_the_chain_link(client, archived, identity_key):
    response = await client.get(
        f"/archive/documents/{archived.id}/bundle", headers=bearer(identity_key, BUYER.company_id)
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="F2025-000123-bundle.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert sorted(bundle.namelist()) == ["F2025-000123.pdf", "F2025-000123.xml", "verification.json"]
        assert bundle.read("F2025-000123.pdf") == archived.pdf
        assert bundle.read("F2025-000123.xml") == archived.xml
        manifest = json.loads(bundle.read("verification.json"))
    assert manifest["chain"]["sequence"] == archived.sequence
    assert manifest["chain"]["previous_chain_hash"] == archived.previous_chain_hash
    assert manifest["chain"]["chain_hash"] == archived.chain_hash
    assert manifest["chain"]["link_recomputes"] is True
    assert manifest["entry"]["retain_until"] == archived.retain_until.isoformat() == "2036-12-31"
    report = manifest["verification"]
    assert (report["integrity"], report["valid"], report["trust"]["trusted"]) == ("intact", True, True)
    assert report["archive"] == {
        "matched": True,
        "kind": "exact",
        "archive_id": str(archived.id),
        "invoice_number": "F2025-000123",
        "message": f"matches archive entry {archived.id}",
    }
    assert manifest["files"] == {
        "F2025-000123.pdf": hashlib.sha256(archived.pdf).hexdigest(),
        "F2025-000123.xml": hashlib.sha256(archived.xml).hexdigest(),
    }


async def test_a_company_that_is_not_a_party_gets_404_for_the_document_its_xml_and_its_bundle(
    client, archived, identity_key
):
    outsider = bearer(identity_key, OUTSIDER)
    for suffix in ("", "/xml", "/bundle"):
        response = await client.get(f"/archive/documents/{archived.id}{suffix}", headers=outsider)
        assert response.status_code == 404, suffix
        assert archived.invoice_number not in response.text
    unknown = await client.get(
        f"/archive/documents/{uuid.uuid4()}/bundle", headers=bearer(identity_key, SELLER.company_id)
    )
    assert unknown.status_code == 404


# --------------------------------------------------------------------------- verification


async def test_an_archived_seal_is_intact_trusted_and_matches_its_entry_for_a_party(client, archived, identity_key):
    response, elapsed = await timed_post(
        client,
        "/verify",
        content=archived.pdf,
        headers={**bearer(identity_key, SELLER.company_id), "content-type": "application/pdf"},
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["integrity"], report["valid"]) == ("intact", True)
    assert "Factora Development Seal" in report["signer"]["subject"]
    assert "Root CA" in report["signer"]["issuer"]
    assert report["signing_time"] and report["signing_time_source"] == "signer"
    assert report["timestamp"] is None  # B-B: no timestamp authority configured
    assert report["trust"] == {"trusted": True, "problem": None}
    assert report["archive"]["message"] == f"matches archive entry {archived.id}"
    assert report["document"]["sha256"] == archived.sha256
    assert elapsed < BOUND_S


async def test_a_company_that_is_not_a_party_only_hears_there_is_no_match_visible_to_it(client, archived, identity_key):
    response = await client.post(
        "/verify",
        files={"file": ("kept.pdf", archived.pdf, "application/pdf")},
        headers=bearer(identity_key, OUTSIDER),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["integrity"] == "intact"
    assert report["archive"] == {
        "matched": False,
        "kind": None,
        "archive_id": None,
        "invoice_number": None,
        "message": "no match visible to you",
    }
    assert str(archived.id) not in response.text


async def test_a_kept_copy_with_bytes_appended_is_modified_and_points_to_its_sealed_original(
    client, archived, identity_key
):
    response = await client.post(
        "/verify",
        files={"file": ("kept.pdf", archived.pdf + b"\n% a note added later\n", "application/pdf")},
        headers=bearer(identity_key, BUYER.company_id),
    )

    report = response.json()
    assert (report["integrity"], report["valid"]) == ("modified", False)
    assert report["archive"]["kind"] == "signed_revision"
    assert report["archive"]["archive_id"] == str(archived.id)
    assert report["document"]["signed_revision_sha256"] == archived.sha256


async def test_a_byte_flipped_in_the_signed_content_is_reported_modified(client, archived, identity_key):
    at = archived.pdf.index(b"stream", archived.pdf.index(b"/FontFile2")) + 300
    tampered = archived.pdf[:at] + bytes([archived.pdf[at] ^ 0x01]) + archived.pdf[at + 1 :]

    response = await client.post("/verify", content=tampered, headers=bearer(identity_key, BUYER.company_id))

    report = response.json()
    assert (report["integrity"], report["valid"]) == ("modified", False)
    assert report["archive"]["matched"] is False
    assert "altered" in report["problem"]


@pytest.mark.parametrize("code", ["not_a_pdf", "encrypted_pdf", "malformed_pdf", "decompression_bomb"])
async def test_a_hostile_upload_gets_a_422_naming_the_problem_within_the_bound(
    client, hostile_pdfs, identity_key, code
):
    response, elapsed = await timed_post(
        client,
        "/verify",
        files={"file": ("upload.pdf", hostile_pdfs[code], "application/pdf")},
        headers=bearer(identity_key, BUYER.company_id),
    )

    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == code
    assert elapsed < BOUND_S


async def test_an_upload_over_the_limit_gets_413_whether_its_length_is_declared_or_streamed(client, identity_key):
    big = b"%PDF-1.7\n" + b"0" * MAX_BYTES
    headers = {**bearer(identity_key, BUYER.company_id), "content-type": "application/pdf"}

    declared, _ = await timed_post(client, "/verify", content=big, headers=headers)

    async def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed, elapsed = await timed_post(client, "/verify", content=chunks(), headers=headers)

    assert declared.status_code == streamed.status_code == 413
    assert streamed.json()["detail"]["code"] == "too_large"
    assert elapsed < BOUND_S


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "application/pdf", 400, "empty"),
        (b"name=value", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (
            b'--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
            400,
            "no_file",
        ),
        (b"--b--\r\n", "multipart/form-data", 400, "bad_multipart"),
    ],
    ids=["empty", "form-urlencoded", "multipart-without-file", "multipart-without-boundary"],
)
async def test_a_malformed_request_gets_a_4xx_naming_the_problem(
    client, identity_key, body, content_type, status, code
):
    response = await client.post(
        "/verify", content=body, headers={**bearer(identity_key, BUYER.company_id), "content-type": content_type}
    )

    assert response.status_code == status, response.text
    assert response.json()["detail"]["code"] == code


async def test_verification_and_bundles_need_an_access_token(client, archived):
    assert (await client.post("/verify", content=archived.pdf)).status_code == 401
    assert (await client.get(f"/archive/documents/{archived.id}/bundle")).status_code == 401


async def test_the_service_keeps_verifying_after_hostile_uploads(client, archived, hostile_pdfs, identity_key, service):
    app, _ = service
    headers = bearer(identity_key, SELLER.company_id)
    await client.post("/verify", files={"file": ("b.pdf", hostile_pdfs["decompression_bomb"])}, headers=headers)

    response = await client.post("/verify", content=archived.pdf, headers=headers)

    assert response.status_code == 200 and response.json()["valid"] is True
    assert (await client.get("/health/live")).status_code == 200
    assert app.state.sandbox.replaced == 0
