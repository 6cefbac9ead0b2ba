"""pyHanko signers for the seal: a ready key object, and the signed-attributes template both signers share."""

from __future__ import annotations

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class SignedAttrsTemplate:
    """Mixin for a pyHanko Signer: build the PAdES signed attributes once, then splice in each digest.

    For a PAdES seal the signed attributes are content-type, message-digest and
    signing-certificate-v2 (PAdES omits signing-time): only the digest changes between
    documents, yet asn1crypto takes ~7 ms to build and encode them. pyHanko builds them
    once with a marker digest; later signatures splice the digest into that DER.
    """

    signed_attr_prov_spec: object

    def _template_cache(self) -> dict[tuple, tuple[bytes, bytes]]:
        cache = self.__dict__.get("_attr_templates")
        if cache is None:
            cache = self.__dict__["_attr_templates"] = {}
        return cache

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
        settings = attr_settings or PdfCMSSignedAttributes()
        build = super().signed_attrs  # type: ignore[misc]
        constant = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and settings.cades_signed_attrs is None
            and self.signed_attr_prov_spec is None
        )
        if not constant:
            return await build(
                data_digest,
                digest_algorithm,
                attr_settings=settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        templates = self._template_cache()
        key = (digest_algorithm, content_type, len(data_digest), is_pdf_sig)
        if key not in templates:
            marker = bytes([0xA5]) * len(data_digest)
            template = await build(
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
            templates[key] = (head, tail)
        head, tail = templates[key]
        return cms.CMSAttributes.load(head + data_digest + tail)


class KeyObjectSigner(SignedAttrsTemplate, Signer):
    """A pyHanko signer holding a ready `cryptography` key object (EC or RSA PKCS#1 v1.5).

    pyHanko's SimpleSigner re-imports its key from DER on every signature, which for
    RSA re-runs the key consistency checks (~35 ms for RSA-2048); this one never does.
    """

    def __init__(self, key, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]):
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        super().__init__(signing_cert=cert, cert_registry=registry, embed_roots=True)
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        key = self._key
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(algorithm))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm)
        raise SigningError(f"unsupported seal key type {type(key).__name__}")
