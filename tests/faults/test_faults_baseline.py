"""Baseline: the flow with no fault at all, the yardstick for the fault scenarios' figures."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(3600)]


async def test_with_no_fault_every_invoice_is_issued_archived_and_mailed_once(faults):
    async def no_fault(run):
        await run.publisher.done.wait()

    result = await faults.run("baseline", no_fault)
    faults.record("baseline (no fault)", result.figures)
    assert result.outcome.lost == 0
    assert result.outcome.duplicates == 0
