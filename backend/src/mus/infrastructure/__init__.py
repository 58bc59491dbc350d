"""infrastructure layer of mus."""
