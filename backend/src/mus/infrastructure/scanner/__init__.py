"""scanner layer of mus."""
