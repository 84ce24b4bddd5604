"""Alembic environment and versions for the complyd schema."""
