"""PKCS#11 sealing against a throwaway SoftHSM2 token holding the development seal key and certificates."""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.adapters.sealing import PooledInvoiceSealer, sealer_config
from signing.documents import PadesSealer, async_verify_pdf, ensure_dev_pki, make_invoice_pdf, verify_pdf
from signing.documents import pkcs11 as token_module
from signing.documents.facturx import extract_xml
from signing.documents.pkcs11 import Pkcs11Config
from signing.documents.samples import reverse_charge_invoice, standard_invoice
from signing.settings import Settings

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
)
SOFTHSM_MODULE = next((Path(p) for p in MODULE_CANDIDATES if Path(p).exists()), None)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        SOFTHSM_MODULE is None or shutil.which("softhsm2-util") is None,
        reason="SoftHSM2 is not installed: apt-get install softhsm2 (module libsofthsm2.so and softhsm2-util)",
    ),
]

TOKEN_LABEL = "factora-test-seal"
USER_PIN = "4711-user"
SO_PIN = "4711-so"
KEY_LABEL = "factora-seal"
CA_LABEL = "factora-dev-ca"
PASSPHRASE = "pkcs11-test"


def softhsm(*args: str, env: dict[str, str]) -> None:
    subprocess.run(["softhsm2-util", *args], env=env, check=True, capture_output=True, timeout=30)


def store_certificate(config: Pkcs11Config, der: bytes, label: str, object_id: bytes) -> None:
    """softhsm2-util imports keys only: certificates go in through a read-write session."""
    import pkcs11
    from asn1crypto import x509 as asn1_x509
    from pkcs11 import Attribute, CertificateType, ObjectClass

    token = pkcs11.lib(str(config.module)).get_token(token_label=config.token_label)
    with token.open(rw=True, user_pin=config.pin) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: label,
                Attribute.ID: object_id,
                Attribute.SUBJECT: asn1_x509.Certificate.load(der).subject.dump(),
                Attribute.VALUE: der,
            }
        )


def service_settings(config: Pkcs11Config, tmp_path: Path, pin: str = USER_PIN) -> Settings:
    return Settings(
        database_url="postgresql+asyncpg://unused:unused@127.0.0.1:1/unused",
        pki_dir=tmp_path / "no-dev-pki",
        sealing_workers=1,
        pkcs11_module=config.module,
        pkcs11_token_label=TOKEN_LABEL,
        pkcs11_pin=pin,
        pkcs11_key_label=KEY_LABEL,
        pkcs11_chain_labels=[CA_LABEL],
    )


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    """A fresh token in a temp folder (SOFTHSM2_CONF points there) with the dev seal key, its certificate and CA."""
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as patch:
        # Set for this process and inherited by the pool's workers, which start later.
        patch.setenv("SOFTHSM2_CONF", str(conf))
        env = {"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin:/usr/local/bin"}
        softhsm("--init-token", "--free", "--label", TOKEN_LABEL, "--pin", USER_PIN, "--so-pin", SO_PIN, env=env)

        pki = ensure_dev_pki(home / "pki", PASSPHRASE)
        key, cert, cas = pkcs12.load_key_and_certificates(pki.seal_p12.read_bytes(), PASSPHRASE.encode())
        key_pem = home / "seal-key.pem"
        key_pem.touch(mode=0o600)
        key_pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        try:
            softhsm(
                "--import", str(key_pem), "--token", TOKEN_LABEL, "--label", KEY_LABEL, "--id", "01",
                "--pin", USER_PIN, env=env,
            )  # fmt: skip
        finally:
            key_pem.unlink()

        config = Pkcs11Config(
            module=SOFTHSM_MODULE, token_label=TOKEN_LABEL, pin=USER_PIN, key_label=KEY_LABEL, chain_labels=(CA_LABEL,)
        )
        store_certificate(config, cert.public_bytes(Encoding.DER), KEY_LABEL, b"\x01")
        store_certificate(config, cas[0].public_bytes(Encoding.DER), CA_LABEL, b"\x02")
        yield config, pki


@pytest.fixture
def token_sealer(token):
    """A sealer on the token, closed after the test: PKCS#11 logins belong to the process."""
    config, _ = token
    sealer = PadesSealer.from_pkcs11(config)
    yield sealer
    sealer.close()


def test_a_seal_made_with_the_key_on_the_token_is_intact_trusted_and_carries_the_chain(token, token_sealer):
    _, pki = token
    pdf, xml = make_invoice_pdf(standard_invoice(), "fr")

    sealed = token_sealer.seal(pdf)

    report = verify_pdf(sealed, [pki.ca_cert])
    assert report.bottom_line and report.integrity == "intact", report.problem
    assert "Factora Development Seal" in report.signer
    assert extract_xml(sealed) == xml
    signed_data = PdfFileReader(BytesIO(sealed)).embedded_signatures[0].signed_data
    subjects = {c.chosen.subject.human_friendly for c in signed_data["certificates"]}
    assert any("Root CA" in s for s in subjects), "the CA certificate on the token is embedded"


def test_one_session_is_opened_per_sealer_however_many_documents_it_seals(token, monkeypatch):
    config, pki = token
    opened = []
    real_open = token_module.open_pkcs11_session

    def counting_open(*args, **kwargs):
        session = real_open(*args, **kwargs)
        opened.append(session)
        return session

    monkeypatch.setattr(token_module, "open_pkcs11_session", counting_open)
    sealer = PadesSealer.from_pkcs11(config)
    pdf, _ = make_invoice_pdf(reverse_charge_invoice(), "en")
    try:
        sealed = [sealer.seal(pdf) for _ in range(3)]
    finally:
        sealer.close()

    assert len(opened) == 1
    assert all(verify_pdf(s, [pki.ca_cert]).bottom_line for s in sealed)


def test_a_wrong_pin_is_refused_when_the_sealer_is_built(token):
    config, _ = token
    wrong = Pkcs11Config(module=config.module, token_label=config.token_label, pin="0000", key_label=KEY_LABEL)

    with pytest.raises(Exception) as refused:
        PadesSealer.from_pkcs11(wrong)
    assert type(refused.value).__name__ == "PinIncorrect"


def test_an_unknown_key_label_is_refused_with_the_label(token):
    config, _ = token
    missing = Pkcs11Config(module=config.module, token_label=config.token_label, pin=config.pin, key_label="nope")

    with pytest.raises(Exception, match="nope"):
        PadesSealer.from_pkcs11(missing)


async def test_the_service_seals_from_the_token_in_its_worker_pool_when_configured_so(token, tmp_path):
    config, pki = token
    settings = service_settings(config, tmp_path)
    assert sealer_config(settings).pkcs11 == config
    sealer = PooledInvoiceSealer(settings)
    await sealer.start()  # the worker logs in to the token in its initializer
    try:
        sealed = [await sealer.seal_invoice(standard_invoice(), locale) for locale in ("fr", "en")]
    finally:
        await sealer.stop()

    for document in sealed:
        assert (await async_verify_pdf(document.pdf, [pki.ca_cert])).bottom_line
        assert extract_xml(document.pdf) == document.xml
    assert not (tmp_path / "no-dev-pki").exists(), "no development seal is created when a token is configured"
