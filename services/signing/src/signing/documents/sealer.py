"""PAdES seal (B-B, or B-T with a timestamp server) with a key loaded once, and a process pool."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from contracts.v1.invoicing import InvoiceDocument
from signing.documents.facturx import make_invoice_pdf
from signing.documents.labels import Locale

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


class KeyObjectSigner(Signer):
    """A pyHanko signer holding a ready `cryptography` key object (EC or RSA PKCS#1 v1.5).

    pyHanko's SimpleSigner re-imports its key from DER on every signature, which for
    RSA re-runs the key consistency checks (~35 ms for RSA-2048); this one never does.
    """

    def __init__(self, key, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]):
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        super().__init__(signing_cert=cert, cert_registry=registry, embed_roots=True)
        self._key = key
        self._attr_templates: dict[tuple, tuple[bytes, bytes]] = {}

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type="data",
        use_pades=False,
        timestamper=None,
        dry_run=False,
        is_pdf_sig=True,
    ) -> cms.CMSAttributes:
        # For a PAdES seal the signed attributes are content-type, message-digest and
        # signing-certificate-v2 (PAdES omits signing-time): only the digest changes between
        # documents, yet asn1crypto takes ~7 ms to build and encode them. pyHanko builds
        # them once with a marker digest; later signatures splice the digest into that DER.
        settings = attr_settings or PdfCMSSignedAttributes()
        constant = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and settings.cades_signed_attrs is None
            and self.signed_attr_prov_spec is None
        )
        if not constant:
            return await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        key = (digest_algorithm, content_type, len(data_digest), is_pdf_sig)
        if key not in self._attr_templates:
            marker = bytes([0xA5]) * len(data_digest)
            template = await super().signed_attrs(
                marker,
                digest_algorithm,
                attr_settings=settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
            head, found, tail = template.dump().partition(marker)
            if not found or marker in tail:
                raise SigningError("cannot locate the message digest in the signed attributes")
            self._attr_templates[key] = (head, tail)
        head, tail = self._attr_templates[key]
        return cms.CMSAttributes.load(head + data_digest + tail)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        key = self._key
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(algorithm))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm)
        raise SigningError(f"unsupported seal key type {type(key).__name__}")


@dataclass(frozen=True)
class SealerConfig:
    """What a sealer is built from; picklable, so pool workers can build their own."""

    pkcs12_path: Path
    passphrase: bytes
    timestamp_url: str | None = None
    timestamp_timeout: float = 5.0


class PadesSealer:
    """Seals PDFs with one key and certificate chain, built once and reused for every document."""

    def __init__(
        self,
        signer: KeyObjectSigner,
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
    def from_config(cls, config: SealerConfig) -> PadesSealer:
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

    def seal(self, pdf: bytes) -> bytes:
        """Seal `pdf` and return the signed file (an incremental update of the input)."""
        # One event loop per sealer rather than asyncio.run() per document, as pyHanko's
        # sync wrapper does; must not be called from a thread running an event loop.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.async_seal(pdf))


_worker_sealer: PadesSealer | None = None


def _init_worker(config: SealerConfig) -> None:
    global _worker_sealer
    _worker_sealer = PadesSealer.from_config(config)


def _seal_in_worker(pdf: bytes) -> bytes:
    assert _worker_sealer is not None, "worker not initialised"
    return _worker_sealer.seal(pdf)


def _make_and_seal_in_worker(doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes]:
    assert _worker_sealer is not None, "worker not initialised"
    pdf, xml = make_invoice_pdf(doc, locale)
    return _worker_sealer.seal(pdf), xml


def _worker_ready(hold: float) -> int:
    # Held briefly so that concurrent calls land on distinct workers, starting each one.
    time.sleep(hold)
    return os.getpid()


class SealingPool:
    """Seals in worker processes, each loading the key once; `await pool.seal(pdf)`.

    PKCS#11 keys (HSM) are not supported yet: a worker would open its own session in
    the initializer the same way, with pyhanko.sign.pkcs11.PKCS11Signer.
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

    def close(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    async def __aenter__(self) -> SealingPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
