"""The mock-services app that runs inside the sandbox pod (issue: snapshots)."""
