"""`mus run`: a small process supervisor for one machine (Redis if needed, api, worker)."""
