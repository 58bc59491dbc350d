"""api layer of mus."""
