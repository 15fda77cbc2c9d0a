"""A reference subscriber: the public feed kept in SQLite, as a lookup service would."""
