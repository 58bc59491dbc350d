"""Tracks, player state, audio formats and file-naming rules: plain data, no I/O."""
