"""The verification sandbox: hostile files are refused by name, within a time bound, and never take it down."""

from __future__ import annotations

import hashlib
import time

import pytest

from signing.adapters.sandbox import SandboxRefusal, VerificationSandbox
from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf
from signing.documents.samples import long_invoice, standard_invoice

pytestmark = pytest.mark.integration

PASSPHRASE = "sandbox-test"
BOUND_S = 5.0  # far above the milliseconds each refusal takes, far below a hang


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_dev_pki(tmp_path_factory.mktemp("sandbox-pki"), PASSPHRASE)


@pytest.fixture(scope="module")
def sealed(pki) -> bytes:
    sealer = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
    return sealer.seal(make_invoice_pdf(standard_invoice(), "fr")[0])


@pytest.fixture(scope="module")
def sealed_long(pki) -> bytes:
    sealer = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
    return sealer.seal(make_invoice_pdf(long_invoice(120), "fr")[0])


@pytest.fixture(scope="module")
async def sandbox(pki):
    box = VerificationSandbox([pki.ca_cert], timeout_s=BOUND_S, memory_mb=256)
    await box.start()
    await box.wait_ready()
    yield box
    await box.stop()


async def timed(box: VerificationSandbox, pdf: bytes):
    started = time.monotonic()
    try:
        return await box.inspect(pdf), time.monotonic() - started
    except SandboxRefusal as refusal:
        return refusal, time.monotonic() - started


async def test_a_sealed_invoice_is_reported_intact_and_trusted_with_its_hashes(sandbox, sealed):
    result, elapsed = await timed(sandbox, sealed)

    assert not isinstance(result, SandboxRefusal), result
    signature = result["signature"]
    assert (signature["integrity"], signature["trusted"], signature["bottom_line"]) == ("intact", True, True)
    assert "Factora Development Seal" in signature["signer"]
    assert signature["signing_time_source"] == "signer" and not signature["timestamped"]
    assert result["size_bytes"] == len(sealed)
    assert result["signed_revision_sha256"] == result["sha256"]
    assert elapsed < BOUND_S


async def test_bytes_appended_after_the_seal_are_reported_modified_with_the_sealed_revision_hash(sandbox, sealed):
    result, _ = await timed(sandbox, sealed + b"\n% appended later\n")

    assert result["signature"]["integrity"] == "modified"
    assert result["signature"]["coverage"] == "ENTIRE_REVISION"
    assert result["signed_revision_sha256"] == hashlib.sha256(sealed).hexdigest()


@pytest.mark.parametrize("code", ["not_a_pdf", "encrypted_pdf", "malformed_pdf", "decompression_bomb"])
async def test_a_hostile_file_is_refused_with_its_reason_within_the_bound(sandbox, hostile_pdfs, code):
    refusal, elapsed = await timed(sandbox, hostile_pdfs[code])

    assert isinstance(refusal, SandboxRefusal), refusal
    assert refusal.code == code, refusal.message
    assert elapsed < BOUND_S
    assert sandbox.replaced == 0, "a refusal by name leaves the worker in service"


async def test_a_file_that_takes_too_long_is_cut_off_and_the_worker_replaced(sandbox, sealed_long):
    slow = sealed_long
    sandbox.timeout_s = 0.002  # no real check of a 120-line invoice fits in 2 ms
    try:
        refusal, elapsed = await timed(sandbox, slow)
    finally:
        sandbox.timeout_s = BOUND_S

    assert isinstance(refusal, SandboxRefusal) and refusal.code == "too_slow"
    assert elapsed < 1.0
    assert sandbox.replaced == 1
    result, _ = await timed(sandbox, slow)  # served by the replacement
    assert result["signature"]["integrity"] == "intact"


async def test_the_address_space_limit_stops_a_bomb_that_slips_past_the_decoding_limits(pki, hostile_pdfs, sealed):
    # pyHanko's decoding limits switched off: only RLIMIT_AS stands between the bomb and the host.
    box = VerificationSandbox([pki.ca_cert], timeout_s=BOUND_S, memory_mb=48, decode_limit_mb=None)
    await box.start()
    try:
        refusal, elapsed = await timed(box, hostile_pdfs["decompression_bomb"])
        after, _ = await timed(box, sealed)
    finally:
        await box.stop()

    assert isinstance(refusal, SandboxRefusal) and refusal.code == "memory_limit", refusal
    assert elapsed < BOUND_S + 30  # includes the worker's own start-up, which the bound does not count
    assert box.replaced == 1
    assert after["signature"]["integrity"] == "intact", "a fresh worker took over"
