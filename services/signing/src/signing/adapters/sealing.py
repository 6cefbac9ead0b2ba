"""The invoice sealer: Factur-X PDF/A-3 rendering, then a PAdES seal from the process pool."""

from __future__ import annotations

import asyncio
import logging

from contracts.v1 import InvoiceDocument
from signing.documents.dev_pki import ensure_dev_pki
from signing.documents.sealer import SealerConfig, SealingPool
from signing.service.handlers import DocumentRejected, SealedInvoice
from signing.settings import Settings

log = logging.getLogger(__name__)


def sealer_config(settings: Settings) -> SealerConfig:
    """The configured PKCS#12 seal, or the development seal created on first start."""
    passphrase = settings.pkcs12_passphrase.get_secret_value().encode()
    path = settings.pkcs12_path
    if path is None:
        pki = ensure_dev_pki(settings.pki_dir, passphrase)
        path = pki.seal_p12
        log.info("sealing with the development seal in %s (set SIGNING_PKCS12_PATH in production)", pki.seal_p12)
    return SealerConfig(pkcs12_path=path, passphrase=passphrase, timestamp_url=settings.timestamp_url)


class PooledInvoiceSealer:
    """Renders and seals in worker processes, each holding its fonts and key loaded once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: SealingPool | None = None

    async def start(self) -> None:
        """Create the pool and load the key in every worker before the first invoice arrives."""
        config = await asyncio.to_thread(sealer_config, self._settings)
        self._pool = SealingPool(config, workers=self._settings.sealing_workers)
        await self._pool.start()

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
            pdf, xml = await self._pool.make_sealed_invoice(document, lang)
        except (ValueError, KeyError, UnicodeError) as exc:
            raise DocumentRejected(f"invoice {document.number} cannot be rendered: {exc}") from exc
        return SealedInvoice(pdf=pdf, xml=xml, level=self.level)
