"""Reconstruction: rebuild a Snapshot from trace observations, and prove it (issue: reconstruct)."""
