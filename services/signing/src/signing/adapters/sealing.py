"""The invoice sealer: Factur-X PDF/A-3 rendering, then a PAdES seal from the process pool."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from contracts.v1 import InvoiceDocument
from servicekit.metrics import RENDERING_DURATION, SEAL_CERTIFICATE, SEALING_DURATION
from signing.documents.dev_pki import CA_FILE, ensure_dev_pki
from signing.documents.sealer import Pkcs11Config, SealerConfig, SealingPool
from signing.service.handlers import DocumentRejected, SealedInvoice
from signing.settings import Settings

log = logging.getLogger(__name__)


def sealer_config(settings: Settings) -> SealerConfig:
    """The configured PKCS#11 token or PKCS#12 seal, or the development seal created on first start."""
    if settings.pkcs11_module is not None:
        assert settings.pkcs11_token_label is not None and settings.pkcs11_pin is not None  # checked by Settings
        token = Pkcs11Config(
            module=settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            pin=settings.pkcs11_pin.get_secret_value(),
            key_label=settings.pkcs11_key_label,
            cert_label=settings.pkcs11_cert_label,
            chain_labels=tuple(settings.pkcs11_chain_labels),
        )
        return SealerConfig(pkcs11=token, timestamp_url=settings.timestamp_url)
    passphrase = settings.pkcs12_passphrase.get_secret_value().encode()
    path = settings.pkcs12_path
    if path is None:
        pki = ensure_dev_pki(settings.pki_dir, passphrase)
        path = pki.seal_p12
        log.info("sealing with the development seal in %s (set SIGNING_PKCS12_PATH in production)", pki.seal_p12)
    return SealerConfig(pkcs12_path=path, passphrase=passphrase, timestamp_url=settings.timestamp_url)


def verification_trust_roots(settings: Settings) -> list[Path]:
    """CA certificates a seal must chain to: the configured ones, else the development CA when it seals."""
    if settings.trust_roots:
        return list(settings.trust_roots)
    if settings.pkcs11_module is None and settings.pkcs12_path is None:
        return [settings.pki_dir / CA_FILE]
    return []


class PooledInvoiceSealer:
    """Renders and seals in worker processes, each holding its fonts and key loaded once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: SealingPool | None = None

    async def start(self) -> None:
        """Create the pool and load the key in every worker before the first invoice arrives."""
        config = await asyncio.to_thread(sealer_config, self._settings)
        pool = SealingPool(config, workers=self._settings.sealing_workers)
        try:
            await pool.start()
        except BaseException:
            pool.close(wait=False)
            raise
        self._pool = pool
        subject, not_after = await pool.seal_certificate()
        SEAL_CERTIFICATE.observe(subject, not_after)
        log.info("sealing with %s (valid until %s)", subject, not_after.date())

    async def stop(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.close)
            self._pool = None

    @property
    def level(self) -> str:
        return "B-T" if self._settings.timestamp_url else "B-B"

    async def seal_invoice(self, document: InvoiceDocument, locale: str) -> SealedInvoice:
        if self._pool is None:
            raise RuntimeError("sealer used before start()")
        lang = "en" if locale == "en" else "fr"
        try:
            # Render, Factur-X and seal all run in a worker: the event loop stays free.
            pdf, xml, timings = await self._pool.make_sealed_invoice_timed(document, lang)
        except (ValueError, KeyError, UnicodeError) as exc:
            raise DocumentRejected(f"invoice {document.number} cannot be rendered: {exc}") from exc
        RENDERING_DURATION.labels("facturx").observe(timings.facturx_s)
        RENDERING_DURATION.labels("pdf").observe(timings.render_s)
        SEALING_DURATION.observe(timings.seal_s)
        return SealedInvoice(pdf=pdf, xml=xml, level=self.level)
