"""The HTTP api, a driving adapter: routes per resource, request dependencies, start-up.

`routes/` holds one router per resource, `http/` the HTTP plumbing that knows nothing of music
(byte ranges, caching, file responses, SSE framing, multipart). Library logic lives below,
in `application`, `domain` and `adapters`; the entry point `mus.main` assembles the app.
"""
