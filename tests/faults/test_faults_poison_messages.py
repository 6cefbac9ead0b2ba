"""Malformed submissions among the good ones: every good one goes through, every bad one is refused with a reason."""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Envelope
from contracts.examples import signed_partner_headers
from factora_testing.flow import PartnerFlow, Record

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(7200)]

TYPE = "invoicing.partner-invoice-submitted.v1"
PER_KIND = 20
FIVE_MB = 5 * 1024 * 1024


def envelope_headers(flow: PartnerFlow, key: str) -> dict[str, str]:
    return Envelope.new(source="/partners/faults", type=TYPE, subject=key, tenant=flow.seller_id).to_headers()


def bad_records(flow: PartnerFlow) -> dict[str, list[Record]]:
    """PER_KIND records of each kind of bad submission, each with its own key."""
    kinds: dict[str, list[Record]] = {k: [] for k in ("bad-json", "wrong-schema", "5mb", "no-headers", "forged")}
    forger = Ed25519PrivateKey.generate()
    for i in range(PER_KIND):
        key = f"{flow.seller_id}:bad-{i}-{uuid.uuid4().hex[:6]}"
        kinds["bad-json"].append((key, envelope_headers(flow, key), b'{"partner_id": "erp", "lines": [1, 2,'))
        wrong = json.dumps({"partner_id": flow.partner_id, "external_id": f"wrong-{i}", "lines": "none"}).encode()
        kinds["wrong-schema"].append((key + "-w", envelope_headers(flow, key + "-w"), wrong))
        huge = json.dumps({"partner_id": flow.partner_id, "external_id": f"huge-{i}", "padding": "x" * FIVE_MB})
        kinds["5mb"].append((key + "-h", envelope_headers(flow, key + "-h"), huge.encode()))
        _, _, good = flow.record(100_000 + i)
        kinds["no-headers"].append((key + "-n", {}, good))
        # A real submission body, signed with a key that is not the registered one, under its key id.
        _, _, body = flow.record(200_000 + i)
        envelope = Envelope.new(source="/partners/faults", type=TYPE, subject=key + "-f", tenant=flow.seller_id)
        forged = signed_partner_headers(body, envelope, private_key=forger, key_id=flow.key_id)
        kinds["forged"].append((key + "-f", forged, body))
    return kinds


async def test_malformed_submissions_are_refused_with_reasons_and_every_good_one_goes_through(faults):
    kinds: dict[str, list[Record]] = {}

    async def build(flow: PartnerFlow) -> list[Record]:
        kinds.update(bad_records(flow))
        return [record for records in kinds.values() for record in records]

    async def just_flow(run):
        await run.publisher.done.wait()

    result = await faults.run("poison", just_flow, extra=build)
    flow = result.flow
    dead = [h for h, _ in result.dead_letters if h.get("dlq_original_topic") == TYPE]
    rules: dict[str, int] = {}
    for _, value in result.rejections:
        for reason in json.loads(value)["reasons"]:
            rules[reason["rule"]] = rules.get(reason["rule"], 0) + 1
    figures = result.figures | {
        "bad_sent": sum(len(r) for r in kinds.values()),
        "rejected": len(result.rejections),
        "rejection_rules": rules,
        "dead_letter_reasons": sorted({h.get("dlq_reason", "")[:80] for h in dead}),
    }
    faults.record("6. 100 malformed among the good", figures)
    assert figures["lost"] == 0 and figures["dup_invoices"] == 0 and figures["dup_emails"] == 0, figures
    assert figures["rejected_good"] == 0, figures
    # The readable-but-wrong ones (bad JSON, wrong schema, 5 MB, forged signature) get a rejection each...
    assert len(result.rejections) == 4 * PER_KIND, figures
    assert rules.get("FX-AUTH-5", 0) == PER_KIND, figures
    # ...the ones without an envelope are dead-lettered, each with its reason.
    assert len(dead) == PER_KIND and all(h.get("dlq_reason") for h in dead), figures
    # Not one of the bad ones was issued (the no-headers and forged bodies were real invoices).
    assert figures["issued"] == len(flow.sent), figures
