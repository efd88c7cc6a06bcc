"""Sandbox: Docker pods seeded from snapshots, an inspect-ai sandbox (issue: sandbox)."""
