"""Send one invoice into Factora as a partner system, then print what Factora answers about it.

With `make up` running (broker on 127.0.0.1:19092):

    uv run factora partner keygen --out .local/partner-keys        # then register the public key (see README)
    uv run python libs/partner-sdk/examples/send_invoice.py \\
        --partner-id <partner_id> --key-id <key_id> --key-file .local/partner-keys/factora-partner.key.pem \\
        --seller <seller company id> --buyer <buyer company id> [invoice.xml]

Without a file it sends the contracts' sample invoice for those two companies. The local stack does
not insist on signatures (INVOICING_REQUIRE_PARTNER_SIGNATURE=false) and accepts unknown companies,
so `uv run python libs/partner-sdk/examples/send_invoice.py` alone (sample companies, throwaway key) works.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from contracts.examples import sample_partner_invoice
from factora_partner import PartnerCredential, PartnerFeed, PartnerPublisher, default_bootstrap, load_invoice_file
from factora_partner.keys import generate_private_key


def invoice(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if args.file:
        return load_invoice_file(
            args.file, partner_id=args.partner_id, seller_company_id=args.seller, buyer_company_id=args.buyer
        )
    sample = sample_partner_invoice()
    return sample.model_copy(
        update={
            "partner_id": args.partner_id,
            "seller": sample.seller.model_copy(update={"company_id": args.seller}),
            "buyer": sample.buyer.model_copy(update={"company_id": args.buyer}),
        }
    )


async def main(args: argparse.Namespace) -> None:
    if args.key_file:
        credential = PartnerCredential.from_file(args.key_file, partner_id=args.partner_id, key_id=args.key_id)
    else:
        # A throwaway key: enough for `make up`, whose invoicing does not insist on registered keys.
        credential = PartnerCredential(args.partner_id, args.key_id, generate_private_key())
        print("no --key-file: signing with a throwaway key (accepted only where signatures are not required)")
    event = invoice(args)
    # The feed is opened at the end of the topics *before* sending, so no answer can slip past it.
    async with PartnerFeed(
        partner_id=args.partner_id, company_id=args.seller, bootstrap_servers=args.bootstrap, start="end", follow=True
    ) as feed:
        async with PartnerPublisher(credential, bootstrap_servers=args.bootstrap) as publisher:
            sent = await publisher.send(event)
        print(f"sent {sent.external_id}: event {sent.event_id}, partition {sent.partition}, offset {sent.offset}")
        async with asyncio.timeout(args.wait):
            async for item in feed:
                if item.rejection and item.rejection.submission_event_id == sent.event_id:
                    for reason in item.rejection.reasons:
                        print(f"rejected: {reason.rule} {reason.field}: {reason.message}")
                    return
                if item.status and item.status.external_id == event.external_id:
                    print(f"{item.status.status}: invoice {item.status.number}")
                    if item.status.status == "delivered":
                        return


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, help="UBL or CII XML (or JSON) invoice; default: a sample")
    parser.add_argument("--partner-id", default="sample-erp")
    parser.add_argument("--key-id", default="local-key")
    parser.add_argument("--key-file", type=Path, help="private key PEM; default: a throwaway key")
    parser.add_argument("--seller", default="c-sample-seller", help="seller's Factora company id")
    parser.add_argument("--buyer", default="c-sample-buyer", help="buyer's Factora company id")
    parser.add_argument("--bootstrap", default=default_bootstrap())
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for Factora's answer")
    try:
        asyncio.run(main(parser.parse_args()))
    except TimeoutError:
        print("no answer yet; check later with `factora partner rejections`")
