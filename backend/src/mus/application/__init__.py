"""application layer of mus."""
