"""persistence layer of mus."""
