"""Driven adapters, the edge: what the application drives (SQLite, files, Redis).

Persistence, the scanner (tags, covers, probing), events and path locks. They speak the
domain and import nothing above it; the streaq queue, the other driven adapter, lives in
`mus.core.streaq_broker` because only `core/` may name the queue backend.
"""
