"""Environment snapshots: model, on-disk format, authoring, diff, databases (issue: snapshots)."""
