"""mus: a self-hosted music library server."""
