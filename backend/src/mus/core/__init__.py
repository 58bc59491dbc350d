"""What the FastAPI template means by core: settings, logging, the broker and its preflight.

Everything above stands on it and it imports nothing of mus above it. `streaq_broker` is the
broker: the one streaq Worker configured from the settings, riding out a broker restart; the
jobs it runs are registered by the worker's entry point, `mus.worker`.
"""
