"""One router per resource: tracks, media, uploads, errors, player, system, events."""
