"""mus: a self-hosted music library server.

Layers, top to bottom (ARCHITECTURE.md at the repository root; a test keeps imports one-way):
entry points (`main`, `cli`, `worker`), `local_stack` (`mus run`), the outer adapters (the
driving `api`, `watcher`, `jobs`, `web`, and `adapters.queue`, the job-queue port on streaq),
`application`, driven adapters (`adapters`), `domain`, and `core` (settings, logging, the
broker and its preflight) underneath everything.
"""
