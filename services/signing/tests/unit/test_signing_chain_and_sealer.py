"""Pure parts of signing: the chain-link hash, and how the pooled sealer reports bad documents and its level."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from signing.adapters import sealing
from signing.adapters.archive import chain_link
from signing.adapters.tables import GENESIS_HASH
from signing.documents.samples import standard_invoice
from signing.documents.sealer import SealerConfig, SealTimings
from signing.service.handlers import DocumentRejected
from signing.settings import Settings

pytestmark = pytest.mark.unit

ARCHIVE_ID = uuid.UUID("6f1c3b7e-2a4d-4e8f-9b10-0c1d2e3f4a5b")
PDF_HASH = "ab" * 32


def test_a_chain_link_is_a_stable_sha256_hex_digest():
    link = chain_link(GENESIS_HASH, PDF_HASH, ARCHIVE_ID, 1)

    assert link == chain_link(GENESIS_HASH, PDF_HASH, ARCHIVE_ID, 1)
    assert len(link) == 64 and int(link, 16) >= 0


@pytest.mark.parametrize(
    "changed",
    [
        {"previous": "1" * 64},
        {"document": "cd" * 32},
        {"archive_id": uuid.UUID("00000000-0000-4000-8000-000000000000")},
        {"sequence": 2},
    ],
)
def test_changing_any_input_changes_the_link(changed):
    base = {"previous": GENESIS_HASH, "document": PDF_HASH, "archive_id": ARCHIVE_ID, "sequence": 1}
    other = {**base, **changed}

    assert chain_link(*base.values()) != chain_link(*other.values())


def settings(**values) -> Settings:
    return Settings(database_url="postgresql+asyncpg://u:p@127.0.0.1:1/none", **values)


def test_the_seal_level_is_b_b_without_a_timestamp_authority_and_b_t_with_one():
    assert sealing.PooledInvoiceSealer(settings()).level == "B-B"
    assert sealing.PooledInvoiceSealer(settings(timestamp_url="http://tsa.example/tsr")).level == "B-T"


def test_a_configured_pkcs12_is_used_as_is_without_creating_a_development_seal(tmp_path: Path):
    p12 = tmp_path / "seal.p12"
    config = sealing.sealer_config(settings(pkcs12_path=p12, pki_dir=tmp_path / "pki", pkcs12_passphrase="s3cret"))

    assert config.pkcs12_path == p12
    assert config.passphrase == b"s3cret"
    assert not (tmp_path / "pki").exists()


async def test_the_sealer_refuses_to_work_before_start():
    with pytest.raises(RuntimeError, match="before start"):
        await sealing.PooledInvoiceSealer(settings()).seal_invoice(standard_invoice(), "fr")


class FakePool:
    """Stands in for the process pool: records the language, fails on demand."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.languages: list[str] = []

    async def make_sealed_invoice_timed(self, document, lang: str) -> tuple[bytes, bytes, SealTimings]:
        self.languages.append(lang)
        if self.error is not None:
            raise self.error
        return b"%PDF sealed", b"<xml/>", SealTimings(facturx_s=0.0002, render_s=0.003, seal_s=0.004)


def started_sealer(pool: FakePool) -> sealing.PooledInvoiceSealer:
    sealer = sealing.PooledInvoiceSealer(settings())
    sealer._pool = pool  # type: ignore[assignment]
    return sealer


@pytest.mark.parametrize("error", [ValueError("line 3: description is empty"), KeyError("glyph"), UnicodeError("x")])
async def test_an_invoice_that_cannot_be_rendered_is_a_document_rejection_not_an_outage(error):
    sealer = started_sealer(FakePool(error))

    with pytest.raises(DocumentRejected) as caught:
        await sealer.seal_invoice(standard_invoice(), "en")
    assert standard_invoice().number in str(caught.value)


async def test_an_unexpected_pool_failure_is_not_mistaken_for_a_bad_document():
    sealer = started_sealer(FakePool(RuntimeError("worker died")))

    with pytest.raises(RuntimeError, match="worker died"):
        await sealer.seal_invoice(standard_invoice(), "fr")


async def test_the_buyer_locale_picks_the_rendering_language_and_anything_else_falls_back_to_french():
    pool = FakePool()
    sealer = started_sealer(pool)

    sealed = await sealer.seal_invoice(standard_invoice(), "en")
    await sealer.seal_invoice(standard_invoice(), "fr")
    await sealer.seal_invoice(standard_invoice(), "de")

    assert pool.languages == ["en", "fr", "fr"]
    assert (sealed.pdf, sealed.xml, sealed.level) == (b"%PDF sealed", b"<xml/>", "B-B")


def test_a_configured_token_is_used_instead_of_any_pkcs12_or_development_seal(tmp_path: Path):
    config = sealing.sealer_config(
        settings(
            pki_dir=tmp_path / "pki",
            pkcs11_module="/usr/lib/softhsm/libsofthsm2.so",
            pkcs11_token_label="seal-token",
            pkcs11_pin="1234",
            pkcs11_key_label="seal",
            pkcs11_chain_labels=["ca"],
        )
    )

    assert config.pkcs12_path is None and config.pkcs11 is not None
    assert (config.pkcs11.token_label, config.pkcs11.key_label, config.pkcs11.chain_labels) == (
        "seal-token",
        "seal",
        ("ca",),
    )
    assert "1234" not in repr(config), "the PIN stays out of logs"
    assert not (tmp_path / "pki").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pkcs11_module": "/x.so"}, "SIGNING_PKCS11_TOKEN_LABEL, SIGNING_PKCS11_PIN, SIGNING_PKCS11_KEY_LABEL"),
        ({"pkcs11_module": "/x.so", "pkcs11_token_label": "t", "pkcs11_pin": "1"}, "SIGNING_PKCS11_KEY_LABEL"),
        (
            {"pkcs11_module": "/x.so", "pkcs11_token_label": "t", "pkcs11_pin": "1", "pkcs11_key_label": "k",
             "pkcs12_path": "/seal.p12"},
            "not both",
        ),
    ],
    ids=["module-alone", "no-label", "both-kinds-of-key"],
)  # fmt: skip
def test_an_incomplete_or_ambiguous_seal_key_configuration_is_refused_at_start(values, message):
    with pytest.raises(ValueError, match=message):
        settings(**values)


def test_verification_trusts_the_configured_roots_else_the_development_ca_only_when_it_seals(tmp_path: Path):
    assert sealing.verification_trust_roots(settings(trust_roots=[tmp_path / "ca.pem"])) == [tmp_path / "ca.pem"]
    assert sealing.verification_trust_roots(settings(pki_dir=tmp_path)) == [tmp_path / "ca.pem"]
    assert sealing.verification_trust_roots(settings(pkcs12_path=tmp_path / "seal.p12")) == []


def test_a_worker_that_cannot_load_the_key_says_why_on_every_call(tmp_path: Path, monkeypatch):
    from signing.documents import sealer as sealer_module

    monkeypatch.setattr(sealer_module, "_worker_sealer", None)
    monkeypatch.setattr(sealer_module, "_worker_error", None)
    sealer_module._init_worker(SealerConfig(pkcs12_path=tmp_path / "missing.p12", passphrase=b"x"))

    with pytest.raises(RuntimeError, match=r"could not load the seal key \(FileNotFoundError"):
        sealer_module._worker_ready(0)
    with pytest.raises(RuntimeError, match="FileNotFoundError"):
        sealer_module._seal_in_worker(b"%PDF")


def test_a_sealer_config_names_exactly_one_kind_of_key():
    with pytest.raises(ValueError, match="exactly one"):
        SealerConfig()


async def test_each_sealed_invoice_records_its_rendering_and_seal_durations():
    from prometheus_client import REGISTRY

    def count(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(f"{name}_count", labels) or 0.0

    before = (count("factora_sealing_duration_seconds"), count("factora_rendering_duration_seconds", step="pdf"))
    await started_sealer(FakePool()).seal_invoice(standard_invoice(), "fr")

    after = (count("factora_sealing_duration_seconds"), count("factora_rendering_duration_seconds", step="pdf"))
    assert after == (before[0] + 1, before[1] + 1)
