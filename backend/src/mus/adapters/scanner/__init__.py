"""Reading and writing audio files: walking the library, tags, covers, probing durations."""
