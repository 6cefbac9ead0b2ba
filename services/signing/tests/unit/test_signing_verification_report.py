"""The verification report: verdict wording, timestamp and trust details, and what the archive match may reveal."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from signing.adapters.tables import ArchivedDocument
from signing.service.verification import NO_MATCH, archive_match, build_report, safe_name

pytestmark = pytest.mark.unit

SEALED_SHA = "aa" * 32
SIGNER = "Common Name: Factora Development Seal"


def findings(**signature) -> dict:
    base = {
        "signed": True,
        "intact": True,
        "trusted": True,
        "entire_file": True,
        "coverage": "ENTIRE_FILE",
        "signer": SIGNER,
        "signing_time": "2025-01-15T10:00:00+00:00",
        "timestamped": False,
        "bottom_line": True,
        "signatures": 1,
        "problem": None,
        "integrity": "intact",
        "signer_issuer": "Common Name: Factora Development Root CA",
        "signer_serial": "1f",
        "signing_time_source": "signer",
        "timestamp_time": None,
        "timestamp_authority": None,
        "timestamp_valid": None,
        "timestamp_trusted": None,
        "trust_problem": None,
        "signed_length": 1000,
    }
    base.update(signature)
    return {"sha256": SEALED_SHA, "size_bytes": 1000, "signed_revision_sha256": SEALED_SHA, "signature": base}


def entry(sha256: str = SEALED_SHA) -> ArchivedDocument:
    return ArchivedDocument(
        id=uuid.UUID("6f1c3b7e-2a4d-4e8f-9b10-0c1d2e3f4a5b"),
        invoice_id="inv-1",
        invoice_number="F2025-000123",
        seller_company_id="c-seller",
        buyer_company_id="c-buyer",
        seller_country="FR",
        pdf=b"%PDF",
        xml=b"<x/>",
        sha256=sha256,
        previous_chain_hash="0" * 64,
        chain_hash="1" * 64,
        sequence=1,
        signature_level="B-B",
        retain_until=date(2036, 12, 31),
    )


def test_an_intact_trusted_seal_reads_as_valid_with_the_signer_named():
    report = build_report(findings(), archive_match(findings(), []))

    assert (report.integrity, report.valid) == ("intact", True)
    assert report.summary == f"The document is intact and sealed by {SIGNER}."
    assert report.signer.serial == "1f" and report.trust.trusted and report.timestamp is None


def test_a_timestamped_seal_reports_the_authority_and_the_certified_time():
    data = findings(
        timestamped=True,
        signing_time_source="timestamp",
        timestamp_time="2025-01-15T10:00:01+00:00",
        timestamp_authority="Common Name: Local Test TSA",
        timestamp_valid=True,
        timestamp_trusted=True,
    )

    report = build_report(data, archive_match(data, []))

    assert report.signing_time_source == "timestamp"
    assert report.timestamp.authority == "Common Name: Local Test TSA"
    assert report.timestamp.valid and report.timestamp.trusted


def test_an_untrusted_seal_is_intact_but_not_valid_and_says_why():
    data = findings(trusted=False, bottom_line=False, problem="signer not trusted: NO_CERTIFICATE_CHAIN_FOUND",
                    trust_problem="NO_CERTIFICATE_CHAIN_FOUND")  # fmt: skip

    report = build_report(data, archive_match(data, []))

    assert (report.integrity, report.valid) == ("intact", False)
    assert report.trust.problem == "NO_CERTIFICATE_CHAIN_FOUND"
    assert "does not chain to a trusted root" in report.summary


def test_an_unsigned_file_has_no_signer_and_no_trust_problem():
    data = findings(signed=False, integrity="unsigned", signer=None, trusted=False, bottom_line=False,
                    problem="the document carries no signature", signatures=0)  # fmt: skip

    report = build_report(data, archive_match(data, []))

    assert report.integrity == "unsigned" and report.signer is None
    assert report.trust.problem is None
    assert report.summary == "The document carries no seal."


def test_an_exact_copy_names_the_entry_the_caller_may_see():
    match = archive_match(findings(), [entry()])

    assert match.matched and match.kind == "exact"
    assert match.message == "matches archive entry 6f1c3b7e-2a4d-4e8f-9b10-0c1d2e3f4a5b"


def test_a_copy_with_bytes_added_matches_through_its_signed_revision():
    data = findings(integrity="modified", entire_file=False)
    data["sha256"] = "bb" * 32

    match = archive_match(data, [entry()])

    assert match.kind == "signed_revision" and "bytes were added after the seal" in match.message


def test_without_a_visible_entry_the_caller_learns_nothing_about_others():
    match = archive_match(findings(), [])

    assert match.model_dump() == {
        "matched": False, "kind": None, "archive_id": None, "invoice_number": None, "message": NO_MATCH,
    }  # fmt: skip
    assert NO_MATCH == "no match visible to you"


@pytest.mark.parametrize(
    ("number", "name"),
    [("F2025-000123", "F2025-000123"), ("2025/07 #12", "2025_07_12"), ('../"evil"\r\n', "evil"), ("", "invoice")],
)
def test_file_names_made_from_invoice_numbers_are_safe_in_zips_and_headers(number, name):
    assert safe_name(number) == name
