"""Driven adapters, the edge: what the application drives (SQLite, files, Redis).

Persistence, the scanner (tags, covers, probing), events and path locks. They speak the
domain and import nothing above it. `queue/` is the exception the floors make explicit: it
implements the application's job-queue port on streaq, so it stands above `application/`,
beside the driving adapters (ARCHITECTURE.md).
"""
