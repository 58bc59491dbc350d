"""The background jobs, a driving adapter: plain `async def name(**kwargs)` with JSON arguments.

`registry.JOBS` lists them by task name; each backend's wiring registers them and installs
the `runtime` they reach their resources through (no backend context parameter).
"""
