"""Live events: worker to api over Redis pub/sub, api to browsers over SSE."""
