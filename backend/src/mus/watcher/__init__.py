"""The file watcher, a driving adapter: OS events on the music folder become file jobs."""
