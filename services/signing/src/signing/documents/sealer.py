"""PAdES seal (B-B, or B-T with a timestamp server) with a key loaded once, and a process pool."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from contracts.v1.invoicing import InvoiceDocument
from signing.documents.cii import build_cii_xml
from signing.documents.facturx import attach_facturx, make_invoice_pdf
from signing.documents.labels import Locale
from signing.documents.pkcs11 import Pkcs11Config, open_token_signer
from signing.documents.render import render_invoice
from signing.documents.signers import KeyObjectSigner

__all__ = [
    "SEAL_FIELD",
    "KeyObjectSigner",
    "PadesSealer",
    "Pkcs11Config",
    "SealTimings",
    "SealerConfig",
    "SealingPool",
]

SEAL_FIELD = "FactoraSeal"
# pyHanko re-serialises the XMP packet when it signs (new ModifyDate and Producer) with
# lxml, which names unregistered namespaces ns0, ns1...; Factur-X readers expect "fx".
etree.register_namespace("fx", "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#")
# Room for the CMS besides its certificates (signed attributes, signature, structure),
# and for a timestamp token with its TSA chain; in hex digits, so twice the bytes.
_CMS_OVERHEAD = 2048
_TIMESTAMP_ALLOWANCE = 12 * 1024


def _asn1_cert(cert) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class SealerConfig:
    """What a sealer is built from: a PKCS#12 file or a PKCS#11 token; picklable, so pool workers build their own."""

    pkcs12_path: Path | None = None
    passphrase: bytes = field(default=b"", repr=False)
    timestamp_url: str | None = None
    timestamp_timeout: float = 5.0
    pkcs11: Pkcs11Config | None = None

    def __post_init__(self) -> None:
        if (self.pkcs12_path is None) == (self.pkcs11 is None):
            raise ValueError("configure the seal key with exactly one of a PKCS#12 file or a PKCS#11 token")


class PadesSealer:
    """Seals PDFs with one key and certificate chain, built once and reused for every document."""

    def __init__(
        self,
        signer: Signer,
        *,
        timestamper: TimeStamper | None = None,
        field_name: str = SEAL_FIELD,
    ) -> None:
        meta = PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
        )
        self._pdf_signer = PdfSigner(meta, signer, timestamper=timestamper)
        self.level = "B-T" if timestamper else "B-B"
        certs = [signer.signing_cert, *signer.cert_registry]
        size = sum(len(c.dump()) for c in certs) + _CMS_OVERHEAD
        # A fixed reservation: without it pyHanko builds a dummy signature per document
        # (and asks the timestamp server for a dummy token) just to size the placeholder.
        self.bytes_reserved = 2 * (size + (_TIMESTAMP_ALLOWANCE if timestamper else 0))
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_pkcs12(
        cls,
        path: Path | str,
        passphrase: bytes | str | None,
        *,
        timestamp_url: str | None = None,
        timestamp_timeout: float = 5.0,
    ) -> PadesSealer:
        """Load the key and chain from a PKCS#12 file; `timestamp_url` (RFC 3161) gives B-T."""
        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        key, cert, extra = pkcs12.load_key_and_certificates(Path(path).read_bytes(), secret)
        if key is None or cert is None:
            raise ValueError(f"{path} must hold a private key and its certificate")
        chain = [_asn1_cert(c) for c in extra]
        timestamper = HTTPTimeStamper(timestamp_url, timeout=timestamp_timeout) if timestamp_url else None
        return cls(KeyObjectSigner(key, _asn1_cert(cert), chain), timestamper=timestamper)

    @classmethod
    def from_pkcs11(
        cls, config: Pkcs11Config, *, timestamp_url: str | None = None, timestamp_timeout: float = 5.0
    ) -> PadesSealer:
        """Open a session on the token and find the key and certificates once; the session stays open."""
        timestamper = HTTPTimeStamper(timestamp_url, timeout=timestamp_timeout) if timestamp_url else None
        return cls(open_token_signer(config), timestamper=timestamper)

    @classmethod
    def from_config(cls, config: SealerConfig) -> PadesSealer:
        if config.pkcs11 is not None:
            return cls.from_pkcs11(
                config.pkcs11, timestamp_url=config.timestamp_url, timestamp_timeout=config.timestamp_timeout
            )
        assert config.pkcs12_path is not None
        return cls.from_pkcs12(
            config.pkcs12_path,
            config.passphrase,
            timestamp_url=config.timestamp_url,
            timestamp_timeout=config.timestamp_timeout,
        )

    async def async_seal(self, pdf: bytes) -> bytes:
        """Seal from inside a running event loop (CPU-bound: prefer SealingPool in services)."""
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out = await self._pdf_signer.async_sign_pdf(writer, bytes_reserved=self.bytes_reserved)
        return out.getvalue()

    def close(self) -> None:
        """Release the event loop and, for a PKCS#11 key, the token session."""
        close_signer = getattr(self._pdf_signer.signer, "close", None)
        if close_signer is not None:
            close_signer()
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def seal(self, pdf: bytes) -> bytes:
        """Seal `pdf` and return the signed file (an incremental update of the input)."""
        # One event loop per sealer rather than asyncio.run() per document, as pyHanko's
        # sync wrapper does; must not be called from a thread running an event loop.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.async_seal(pdf))


_worker_sealer: PadesSealer | None = None
_worker_error: str | None = None


def _init_worker(config: SealerConfig) -> None:
    global _worker_sealer, _worker_error
    try:
        _worker_sealer = PadesSealer.from_config(config)
    except Exception as exc:
        # Raised from an initializer, this would only say "the pool is broken"; kept and
        # reported by every call instead, so start() fails with the actual reason.
        _worker_error = f"{type(exc).__name__}: {exc}"


def _sealer() -> PadesSealer:
    if _worker_sealer is None:
        raise RuntimeError(f"the sealing worker could not load the seal key ({_worker_error or 'not initialised'})")
    return _worker_sealer


def _seal_in_worker(pdf: bytes) -> bytes:
    return _sealer().seal(pdf)


def _make_and_seal_in_worker(doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes]:
    sealer = _sealer()
    pdf, xml = make_invoice_pdf(doc, locale)
    return sealer.seal(pdf), xml


def _worker_ready(hold: float) -> int:
    _sealer()
    # Held briefly so that concurrent calls land on distinct workers, starting each one.
    time.sleep(hold)
    return os.getpid()


@dataclass(frozen=True)
class SealTimings:
    """Seconds a worker spent on one invoice: the CII XML, the PDF/A-3 page layout, the seal."""

    facturx_s: float
    render_s: float
    seal_s: float


def _make_and_seal_timed(doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes, SealTimings]:
    sealer = _sealer()
    began = time.perf_counter()
    xml = build_cii_xml(doc)
    built = time.perf_counter()
    pdf = render_invoice(doc, locale, before_output=lambda p: attach_facturx(p, doc, xml, locale))
    rendered = time.perf_counter()
    sealed = sealer.seal(pdf)
    return sealed, xml, SealTimings(built - began, rendered - built, time.perf_counter() - rendered)


def _worker_certificate() -> tuple[str, datetime]:
    cert = _sealer()._pdf_signer.signer.signing_cert
    return cert.subject.human_friendly, cert["tbs_certificate"]["validity"]["not_after"].native


def _worker_cpu(hold: float) -> tuple[int, float]:
    time.sleep(hold)
    return os.getpid(), time.process_time()


class SealingPool:
    """Seals in worker processes, each loading the key once; `await pool.seal(pdf)`.

    With a PKCS#11 token, each worker logs in and opens its own session in its
    initializer and keeps it for its lifetime (sessions cannot cross processes).
    """

    def __init__(self, config: SealerConfig, workers: int | None = None) -> None:
        self.config = config
        self.workers = workers or os.cpu_count() or 1
        self.level = "B-T" if config.timestamp_url else "B-B"
        # "spawn": forking a service process that already runs threads (Kafka client,
        # telemetry exporters) can deadlock a child; workers start once, so it costs little.
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(config,),
        )

    async def start(self) -> set[int]:
        """Start every worker and load its key now rather than on the first invoices.

        Spawned workers start on demand and one may serve several warm-up calls while
        another is still importing, so calls are repeated until each worker has answered.
        """
        loop = asyncio.get_running_loop()
        seen: set[int] = set()
        # A worker failing to start breaks the pool, which ends this loop with an error.
        while len(seen) < self.workers:
            calls = [loop.run_in_executor(self._executor, _worker_ready, 0.05) for _ in range(self.workers)]
            seen.update(await asyncio.gather(*calls))
        return seen

    async def worker_cpu_seconds(self) -> dict[int, float]:
        """CPU seconds each worker has used so far, by pid (for benchmarks and metrics)."""
        loop = asyncio.get_running_loop()
        seen: dict[int, float] = {}
        while len(seen) < self.workers:
            calls = [loop.run_in_executor(self._executor, _worker_cpu, 0.05) for _ in range(self.workers)]
            for pid, cpu in await asyncio.gather(*calls):
                seen.setdefault(pid, cpu)
        return seen

    async def seal(self, pdf: bytes) -> bytes:
        """Seal `pdf` in a worker; the event loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _seal_in_worker, pdf)

    async def make_sealed_invoice(self, doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes]:
        """Render, embed the Factur-X XML and seal in one worker call: (sealed PDF, XML).

        The same steps as make_invoice_pdf + seal, without ~3 ms of rendering on the loop.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _make_and_seal_in_worker, doc, locale)

    async def make_sealed_invoice_timed(self, doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes, SealTimings]:
        """make_sealed_invoice, with the time each step took in the worker (for metrics)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _make_and_seal_timed, doc, locale)

    async def seal_certificate(self) -> tuple[str, datetime]:
        """Subject and notAfter of the certificate the workers seal with."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, _worker_certificate)

    def close(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    async def __aenter__(self) -> SealingPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
