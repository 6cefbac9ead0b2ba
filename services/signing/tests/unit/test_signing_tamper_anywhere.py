"""No changed byte passes for intact: wherever a sealed invoice is altered, its check says modified or refuses it."""

from __future__ import annotations

import pytest
from pyhanko.keys import load_cert_from_pemder

from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf
from signing.documents.inspect import Refused, inspect_pdf
from signing.documents.samples import standard_invoice

pytestmark = pytest.mark.unit

PASSPHRASE = "tamper-test"


@pytest.fixture(scope="module")
def sealed_and_roots(tmp_path_factory):
    pki = ensure_dev_pki(tmp_path_factory.mktemp("tamper-pki"), PASSPHRASE)
    sealed = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE).seal(make_invoice_pdf(standard_invoice(), "fr")[0])
    return sealed, [load_cert_from_pemder(pki.ca_cert)]


def verdict(pdf: bytes, roots) -> str:
    try:
        return inspect_pdf(pdf, roots)["signature"]["integrity"]
    except Refused as refused:
        return f"refused:{refused.code}"


def flipped(pdf: bytes, at: int, mask: int = 0x01) -> bytes:
    return pdf[:at] + bytes([pdf[at] ^ mask]) + pdf[at + 1 :]


def test_the_untouched_seal_is_intact(sealed_and_roots):
    sealed, roots = sealed_and_roots
    assert verdict(sealed, roots) == "intact"


def test_a_byte_flipped_anywhere_in_the_file_is_never_reported_intact(sealed_and_roots):
    sealed, roots = sealed_and_roots
    contents = sealed.index(b"/Contents <")
    # Evenly over the signed content, and more densely over /Contents, which the
    # signature itself does not cover (padding, certificate bag, signer info).
    positions = list(range(0, contents, contents // 30)) + list(range(contents, len(sealed), 199))
    verdicts = {at: verdict(flipped(sealed, at), roots) for at in positions}

    passed = {at: v for at, v in verdicts.items() if v in ("intact", "unsigned")}
    assert not passed, f"changed bytes reported as {passed}"
    assert set(verdicts.values()) <= {"modified", "refused:malformed_pdf", "refused:not_a_pdf"}


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("zero padding of /Contents", lambda pdf: flipped(pdf, pdf.index(b"0000>", pdf.index(b"/Contents <")))),
        ("letter case of a hex digit", lambda pdf: flipped(pdf, pdf.index(b"A", pdf.index(b"/Contents <")), 0x20)),
        ("a name in the CA certificate copy", lambda pdf: flipped(pdf, pdf.index(b"526F6F74") + 2)),
    ],
)
def test_changes_the_signature_value_does_not_cover_are_reported_modified(sealed_and_roots, where, change):
    sealed, roots = sealed_and_roots
    result = inspect_pdf(change(sealed), roots)["signature"]
    assert result["integrity"] == "modified", where
    assert not result["bottom_line"]
