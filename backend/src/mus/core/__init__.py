"""core layer of mus."""
