"""SQLite through SQLAlchemy (WAL): the tables, the track and player-state repositories."""
