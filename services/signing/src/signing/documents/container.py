"""Checks on the bytes a PAdES signature does not cover: the /Contents hex string and its certificate bag.

The signature covers the whole file except its own /Contents. pyHanko validates the
signature value and the signer certificate, so a byte changed elsewhere in /Contents
(zero padding, letter case, the structure around the signer info, a copy of a CA
certificate) leaves the signature "valid" while the file is no longer what was sealed.
An archive must say "modified" for those too: the container must be the canonical DER
encoding, zero-padded, and every certificate carried in it must verify against its issuer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko.sign.fields import enumerate_sig_fields

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[")


def unrecognised_signature_problem(reader, pdf: bytes | None) -> str | None:
    """A signature pyHanko no longer finds: its dictionary, its field or the form leading to it was altered."""
    try:
        filled = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:  # a damaged form is itself the answer
        return f"the signature fields cannot be read: {exc}"
    if filled:
        return "the document holds a signature whose dictionary was altered; it can no longer be checked"
    if pdf is not None and _BYTE_RANGE.search(pdf):
        return "the document holds a signature that is no longer reachable from its form; it was altered"
    return None


def _signer_info_problem(signed_data: cms.SignedData) -> str | None:
    """The unsigned structure around the signer info must agree with itself."""
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        return f"the signature container holds {len(signer_infos)} signer infos instead of one"
    info = signer_infos[0]
    declared = {alg.dump() for alg in signed_data["digest_algorithms"]}
    if info["digest_algorithm"].dump() not in declared:
        return "the digest algorithms listed in the signature container were altered"
    sid = info["sid"]
    certs = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
    if sid.name == "issuer_and_serial_number":
        wanted = (sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native)
        found = any((c.issuer.dump(), c.serial_number) == wanted for c in certs)
    else:
        found = any(c.key_identifier == sid.chosen.native for c in certs)
    if not found:
        return "the signer identifier in the signature container no longer names a certificate it carries"
    return None


def _certificates_problem(signed_data: cms.SignedData, trust_roots: Sequence[asn1_x509.Certificate]) -> str | None:
    carried = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            carried.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError as exc:
            return f"a certificate carried in the signature is damaged: {exc}"
    roots = [x509.load_der_x509_certificate(root.dump()) for root in trust_roots]
    root_keys = {_key_der(root): root for root in roots}
    issuers = carried + roots
    for cert in carried:
        altered = f"the certificate of {cert.subject.rfc4514_string()} carried in the signature was altered"
        # A copy of a trust anchor must be that anchor, byte for byte (its self-signature
        # is never checked by path validation, which uses our own copy).
        anchor = root_keys.get(_key_der(cert))
        if anchor is not None and anchor != cert:
            return altered
        candidates = [c for c in issuers if c.subject == cert.issuer]
        if not candidates:
            continue  # its issuer is not with us: path validation speaks for it
        for issuer in candidates:
            try:
                cert.verify_directly_issued_by(issuer)
                break
            except (InvalidSignature, ValueError, TypeError):
                continue
        else:
            return altered
    return None


def _key_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def container_problem(pdf: bytes, embedded, trust_roots: Sequence[asn1_x509.Certificate]) -> str | None:
    """Why the unsigned /Contents of `embedded` is not as a signer writes it, or None when it is."""
    try:
        _, end1, start2, _ = (int(x) for x in embedded.sig_object["/ByteRange"])
    except (KeyError, TypeError, ValueError):
        return "the signature has no usable /ByteRange"
    gap = pdf[end1:start2]
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        return "the signature value is not stored as a hex string"
    digits = gap[1:-1]
    if digits not in (digits.upper(), digits.lower()):
        return "the hex digits of the signature value were changed"
    try:
        raw = bytes.fromhex(digits.decode("ascii"))
        stored = cms.ContentInfo.load(raw)
        original = stored.dump()
        canonical = cms.ContentInfo.load(original).dump(force=True)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        return f"the signature container cannot be decoded: {exc}"
    if canonical != original:
        return "the signature container was re-encoded or altered outside the signed bytes"
    if raw[len(original) :].strip(b"\x00"):
        return "bytes were written into the padding after the signature container"
    signed_data = stored["content"]
    return _signer_info_problem(signed_data) or _certificates_problem(signed_data, trust_roots)
