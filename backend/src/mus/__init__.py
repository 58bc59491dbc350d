"""mus: a self-hosted music library server.

Layers, top to bottom (ARCHITECTURE.md at the repository root; a test keeps imports one-way):
entry points (`main`, `cli`, `core.streaq_broker`), `local_stack` (`mus run`), driving adapters
(`api`, `watcher`, `jobs`), `application`, driven adapters (`adapters`), `domain`, and `core`
settings, logging and broker preflight underneath everything.
"""
