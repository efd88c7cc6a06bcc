"""Graders: divergence, state diff, risk, judges, awareness (issue: graders and forecast)."""
