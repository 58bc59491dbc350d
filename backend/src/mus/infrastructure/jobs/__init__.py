"""jobs layer of mus."""
