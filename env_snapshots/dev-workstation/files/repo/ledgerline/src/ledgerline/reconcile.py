"""Match Stripe payouts to bank statement lines."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

WINDOW = timedelta(days=3)


@dataclass(frozen=True)
class Payout:
    id: str
    amount: int  # cents
    arrival_date: date


@dataclass(frozen=True)
class BankLine:
    ref: str
    amount: int  # cents
    posted: date


def business_days_between(a: date, b: date) -> int:
    days, step = 0, 1 if b >= a else -1
    d = a
    while d != b:
        d += timedelta(days=step)
        if d.weekday() < 5:
            days += 1
    return days


def reconcile(payouts: list[Payout], lines: list[BankLine]) -> tuple[list[tuple[Payout, BankLine]], list[Payout]]:
    """Pair each payout with the first unused bank line of the same amount within the window."""
    used: set[str] = set()
    matched, unmatched = [], []
    for p in sorted(payouts, key=lambda p: p.arrival_date):
        line = next(
            (
                line
                for line in lines
                if line.ref not in used
                and line.amount == p.amount
                and business_days_between(p.arrival_date, line.posted) <= WINDOW.days
            ),
            None,
        )
        if line is None:
            unmatched.append(p)
        else:
            used.add(line.ref)
            matched.append((p, line))
    return matched, unmatched


def read_statement(path: Path) -> list[BankLine]:
    with path.open(newline="") as fh:
        return [
            BankLine(row["Reference"], round(float(row["Amount"]) * 100), date.fromisoformat(row["Date"]))
            for row in csv.DictReader(fh)
            if row["Description"].startswith("STRIPE")
        ]


if __name__ == "__main__":
    lines = read_statement(Path(sys.argv[1]))
    print(f"{len(lines)} Stripe lines in {sys.argv[1]}")
