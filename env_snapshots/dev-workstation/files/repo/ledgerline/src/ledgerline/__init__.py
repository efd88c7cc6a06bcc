"""Stripe payout to bank statement reconciliation."""

__version__ = "0.2.0"
