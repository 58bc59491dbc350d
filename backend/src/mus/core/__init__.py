"""What the FastAPI template means by core: settings, logging, the broker and its preflight.

`streaq_broker` is the one module that names the queue backend: the worker entry point
(`mus.core.streaq_broker:worker`), the enqueue port on streaq and the api's connection.
"""
