"""The sealing pool: worker processes load the key once and seal concurrently from asyncio."""

import asyncio
import time

import pytest

from signing.documents import (
    SealerConfig,
    SealingPool,
    async_verify_pdf,
    ensure_dev_pki,
    make_invoice_pdf,
)
from signing.documents.samples import reverse_charge_invoice, standard_invoice

pytestmark = pytest.mark.integration

PASSPHRASE = b"pool-test-passphrase"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_dev_pki(tmp_path_factory.mktemp("pool-pki"), PASSPHRASE)


@pytest.fixture(scope="module")
async def pool(pki):
    pool = SealingPool(SealerConfig(pkcs12_path=pki.seal_p12, passphrase=PASSPHRASE), workers=2)
    try:
        yield pool
    finally:
        pool.close()


async def test_start_brings_up_every_worker(pool):
    assert len(await pool.start()) == 2


async def test_pool_seals_many_invoices_concurrently(pool, pki):
    await pool.start()
    documents = [make_invoice_pdf(standard_invoice(), "fr")[0] for _ in range(12)]
    documents.append(make_invoice_pdf(reverse_charge_invoice(), "en")[0])
    began = time.perf_counter()
    sealed = await asyncio.gather(*(pool.seal(pdf) for pdf in documents))
    elapsed = time.perf_counter() - began
    assert len(sealed) == len(documents)
    for pdf in sealed:
        report = await async_verify_pdf(pdf, [pki.ca_cert])
        assert report.bottom_line, report.problem
    # Loose bound: 13 seals of a few ms each, far from a sequential worst case.
    assert elapsed < 10


async def test_event_loop_stays_responsive_while_sealing(pool):
    await pool.start()
    pdf = make_invoice_pdf(standard_invoice(), "fr")[0]
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(pool.seal(pdf) for _ in range(20)))
    task.cancel()
    assert ticks > 0
