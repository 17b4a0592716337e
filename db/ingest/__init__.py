"""Ingestion of a team's job ads and candidate profiles into computed weekly market snapshots."""
