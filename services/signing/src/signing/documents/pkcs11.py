"""Seal keys held in a PKCS#11 token (an HSM, or SoftHSM2 in tests): one session per process, kept open."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyhanko.sign.pkcs11 import PKCS11Signer, TokenCriteria, open_pkcs11_session

from signing.documents.signers import SignedAttrsTemplate


@dataclass(frozen=True)
class Pkcs11Config:
    """Where the seal key lives on a token; picklable, so each pool worker opens its own session."""

    module: Path
    token_label: str
    pin: str = field(repr=False)
    key_label: str | None = None
    cert_label: str | None = None
    # Labels of issuing CA certificates stored on the token, embedded with the seal.
    chain_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.key_label or self.cert_label):
            raise ValueError("a PKCS#11 seal needs the label of its key or of its certificate")


class TokenSigner(SignedAttrsTemplate, PKCS11Signer):
    """pyHanko's PKCS11Signer with the signed-attributes template, signing on the calling thread.

    PKCS11Signer hands every signature to a thread pool so as not to block an event
    loop; a sealing worker process has nothing else to do, so that hop is pure cost.
    """

    def close(self) -> None:
        """End the session (and the login, when it is the process's last session)."""
        self.pkcs11_session.close()

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        self._load_objects()
        assert self._key_handle is not None
        spec = self._select_pkcs11_signing_params(digest_algorithm, sign_kwargs=self.sign_kwargs(data))
        if spec.pre_sign_transform is not None:
            data = spec.pre_sign_transform(data)
        signature = self._key_handle.sign(data, **spec.sign_kwargs)
        if spec.post_sign_transform is not None:
            signature = spec.post_sign_transform(signature)
        return signature


def _needs_raw_mechanism(session, key_algorithm: str) -> bool:
    """True when the token cannot hash-and-sign in one mechanism (SoftHSM2 has no CKM_ECDSA_SHA256)."""
    from pkcs11 import Mechanism

    combined = {"ec": Mechanism.ECDSA_SHA256, "rsa": Mechanism.SHA256_RSA_PKCS}.get(key_algorithm)
    if combined is None:
        return False
    return combined not in set(session.token.slot.get_mechanisms())


def open_token_signer(config: Pkcs11Config) -> TokenSigner:
    """Log in to the token, find the key and certificates now, and keep the session open."""
    # PKCS#11 logins belong to the process: one sealer per process at a time (a pool worker
    # holds one for its lifetime); close() it before opening another in the same process.
    session = open_pkcs11_session(
        str(config.module), token_criteria=TokenCriteria(label=config.token_label), user_pin=config.pin
    )
    try:
        probe = TokenSigner(session, cert_label=config.cert_label, key_label=config.key_label)
        algorithm = probe.signing_cert.public_key.algorithm  # finds the certificate and the key now
        signer = TokenSigner(
            session,
            cert_label=config.cert_label,
            key_label=config.key_label,
            other_certs_to_pull=config.chain_labels,
            use_raw_mechanism=_needs_raw_mechanism(session, algorithm),
        )
        signer._load_objects()
    except BaseException:
        session.close()
        raise
    return signer
