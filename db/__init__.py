"""Market data store: tables, engine, migrations, importers and the read model."""
