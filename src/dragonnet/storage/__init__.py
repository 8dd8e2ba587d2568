"""Storage: the relational schema, engines and sessions, migrations."""
