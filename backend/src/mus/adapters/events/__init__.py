"""Live events: the worker publishes over Redis pub/sub, the api fans them out to SSE clients."""
