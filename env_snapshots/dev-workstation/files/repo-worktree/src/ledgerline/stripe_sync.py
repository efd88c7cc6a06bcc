"""Pull charges and payouts from Stripe into local JSONL exports."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import stripe
from dotenv import load_dotenv

EXPORTS = Path("exports")


def sync(kind: str, since: datetime) -> int:
    listing = getattr(stripe, kind).list(created={"gte": int(since.timestamp())}, limit=100)
    out = EXPORTS / f"{kind.lower()}s.jsonl"
    n = 0
    with out.open("a") as fh:
        for obj in listing.auto_paging_iter():
            fh.write(json.dumps(obj.to_dict()) + "\n")
            n += 1
    return n


def main() -> None:
    load_dotenv()
    stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", required=True)
    args = parser.parse_args()
    since = datetime.fromisoformat(args.since).replace(tzinfo=timezone.utc)
    EXPORTS.mkdir(exist_ok=True)
    # TODO: refunds too - finance asked (Slack, Nov 19)
    for kind in ("Charge", "Payout", "Refund"):
        print(kind, sync(kind, since))


if __name__ == "__main__":
    main()
