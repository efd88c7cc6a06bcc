from datetime import date

from ledgerline.reconcile import BankLine, Payout, reconcile


def test_matches_within_three_business_days():
    p = Payout("po_1PxK2mLq8vTzA0", 128446_6, date(2026, 8, 14))
    line = BankLine("MRC-88120", 128446_6, date(2026, 8, 18))
    matched, unmatched = reconcile([p], [line])
    assert matched == [(p, line)] and unmatched == []


def test_amount_mismatch_is_unmatched():
    p = Payout("po_1PxK2mLq8vTzA1", 5000, date(2026, 8, 14))
    matched, unmatched = reconcile([p], [BankLine("MRC-88121", 5001, date(2026, 8, 14))])
    assert matched == [] and unmatched == [p]
