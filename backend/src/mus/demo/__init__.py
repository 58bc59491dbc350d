"""demo layer of mus."""
