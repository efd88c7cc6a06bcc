"""Replay: inspect-ai tasks continuing recorded traces with a candidate model (issue: replay)."""
