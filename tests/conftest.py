"""Shared test settings: which optional backends must be present."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("COMPLYD_TEST_POSTGRES_URL", "")


def require_postgres() -> str:
    """The PostgreSQL URL for tests; in CI a missing server fails instead of skipping."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but COMPLYD_TEST_POSTGRES_URL is not set")
        pytest.skip("set COMPLYD_TEST_POSTGRES_URL to run PostgreSQL tests")
    return POSTGRES_URL
