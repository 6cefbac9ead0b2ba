"""B-T seal over HTTP: a configured RFC 3161 server timestamps the signature."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

from signing.documents import PadesSealer, async_verify_pdf, ensure_dev_pki, make_invoice_pdf
from signing.documents.samples import standard_invoice

pytestmark = pytest.mark.integration


def _tsa() -> DummyTimeStamper:
    now = datetime.now(UTC) - timedelta(minutes=1)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local Test TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(key_der),
    )


@pytest.fixture
async def tsa_server():
    """A local RFC 3161 endpoint answering with pyHanko's test timestamper."""
    stamper = _tsa()
    requests = []

    async def stamp(request: web.Request) -> web.Response:
        req = tsp.TimeStampReq.load(await request.read())
        requests.append(req)
        resp = await stamper.async_request_tsa_response(req)
        return web.Response(body=resp.dump(), content_type="application/timestamp-reply")

    app = web.Application()
    app.router.add_post("/tsa", stamp)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/tsa", stamper.tsa_cert, requests
    finally:
        await runner.cleanup()


async def test_configured_timestamp_url_gives_a_b_t_seal(tsa_server, tmp_path):
    url, tsa_cert, requests = tsa_server
    pki = ensure_dev_pki(tmp_path, "tsa-test")
    sealer = PadesSealer.from_pkcs12(pki.seal_p12, "tsa-test", timestamp_url=url)
    assert sealer.level == "B-T"
    pdf, _ = make_invoice_pdf(standard_invoice(), "fr")
    # The sealer drives its own event loop, so it runs in a thread while this loop serves the TSA.
    sealed = await asyncio.to_thread(sealer.seal, pdf)
    assert len(requests) == 1  # one token per seal: no dummy request to size the signature
    report = await async_verify_pdf(sealed, [pki.ca_cert, tsa_cert])
    assert report.timestamped and report.bottom_line, report.problem
