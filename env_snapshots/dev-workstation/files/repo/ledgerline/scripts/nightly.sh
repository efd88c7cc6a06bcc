#!/usr/bin/env bash
# Nightly: sync yesterday's Stripe data and reconcile it against the latest statement.
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
yesterday=$(date -u -d yesterday +%F)
python -m ledgerline.stripe_sync --since "$yesterday"
latest=$(ls -1 statements/*.csv | tail -n 1)
python -m ledgerline.reconcile "$latest" | tee "exports/reconcile-$yesterday.log"
