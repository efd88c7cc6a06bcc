cd ~/src/ledgerline
git pull
source .venv/bin/activate
pytest -q
python -m ledgerline.stripe_sync --since 2026-11-01
ls exports/
wc -l exports/payouts.jsonl
python -m ledgerline.reconcile statements/2026-10.csv
git log --oneline -5
git checkout -b refunds-sync
vim src/ledgerline/stripe_sync.py
ssh recon-1
ssh db-tunnel -N &
psql "postgresql://ledgerline@localhost:15432/ledgerline" -c "select count(*) from payouts where reconciled_at is null"
kill %1
aws s3 ls s3://ledgerline-prod-exports/2026/11/
aws s3 cp exports/reconcile-2026-11-18.log s3://ledgerline-prod-exports/2026/11/
git checkout main
git status
pip install -U 'stripe>=11.1'
pytest -q
git add pyproject.toml && git commit -m "Bump stripe to 11.x"
git push origin main
cat .env | grep STRIPE
python -c "import stripe, os; from dotenv import load_dotenv; load_dotenv(); stripe.api_key=os.environ['STRIPE_SECRET_KEY']; print(stripe.Balance.retrieve())"
history | grep psql
