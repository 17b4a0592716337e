"""Imports every table module so SQLModel.metadata (and Alembic) sees the whole schema."""

from db import (
    models,  # noqa: F401
    slack_models,  # noqa: F401
)
