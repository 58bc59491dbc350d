"""Generated audio: the demo library of `make run` and the test fixtures (no binaries kept)."""
