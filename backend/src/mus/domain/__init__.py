"""domain layer of mus."""
