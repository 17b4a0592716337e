"""User-facing /skillgap features, one module each, each exposing register(app)."""
