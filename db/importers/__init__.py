"""Importers that turn published reports and curated files into market snapshots."""
