"""The contract harness: one queue backend per run, the same scenarios, the same snapshots."""
