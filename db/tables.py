"""Imports every table module so SQLModel.metadata (and Alembic) sees the whole schema."""

from db import (
    digest_models,  # noqa: F401
    feed_models,  # noqa: F401
    ingest_models,  # noqa: F401
    models,  # noqa: F401
    profile_models,  # noqa: F401
    slack_models,  # noqa: F401
    workspace_models,  # noqa: F401
)
