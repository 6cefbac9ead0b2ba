"""Pure parts of signing: the chain-link hash, and how the pooled sealer reports bad documents and its level."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from signing.adapters import sealing
from signing.adapters.archive import chain_link
from signing.adapters.tables import GENESIS_HASH
from signing.documents.samples import standard_invoice
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

    async def make_sealed_invoice(self, document, lang: str) -> tuple[bytes, bytes]:
        self.languages.append(lang)
        if self.error is not None:
            raise self.error
        return b"%PDF sealed", b"<xml/>"


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
