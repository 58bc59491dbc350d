"""file_watcher layer of mus."""
