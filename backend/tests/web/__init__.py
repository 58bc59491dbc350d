"""Browser tests: a package, so the stack they share is stopped when the last of them ends."""
