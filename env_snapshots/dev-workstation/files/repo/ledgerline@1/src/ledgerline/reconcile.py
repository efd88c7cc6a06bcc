"""Match payouts to bank statement lines."""


def reconcile(payouts, lines):
    raise NotImplementedError
