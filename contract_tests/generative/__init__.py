"""Generative parity: random histories of a library, replayed on both backends and compared."""
