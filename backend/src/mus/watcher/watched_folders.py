"""The folders the watcher asks the OS to watch, one by one.

A recursive OS watch (inotify through watchfiles) follows every folder symlink wherever it
leads: a link to `/` in the library exhausts the kernel's watches and the watch fails over
and over. mus's own walk follows only links that stay inside the music folder, so the watcher
watches exactly the folders that walk would enter, each on its own (not recursively).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


def watched_folders(music_root: Path) -> list[Path]:
    """The music folder and every real folder under it, links leaving it and hidden folders
    (which the mapping ignores) left out; each folder once, however many links lead to it."""
    root = music_root.resolve()
    status = root.stat()
    seen = {(status.st_dev, status.st_ino)}
    found = [root]
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                children = [entry for entry in entries if not entry.name.startswith(".")]
        except OSError:
            continue  # gone or unreadable since: its parent's events tell the rest
        for entry in children:
            try:
                if not entry.is_dir(follow_symlinks=True):
                    continue
                real = Path(entry.path).resolve(strict=True)
                child = real.stat()
            except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python 3.11
                continue
            if not real.is_relative_to(root):
                if entry.is_symlink():
                    logger.debug("not watching %s: the link leaves the music folder", entry.path)
                continue
            key = (child.st_dev, child.st_ino)
            if key in seen:
                continue
            seen.add(key)
            found.append(real)
            stack.append(real)
    return sorted(found)
