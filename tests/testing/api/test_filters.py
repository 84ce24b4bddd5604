"""tests/api/test_filters.py against the in-process complyd."""

from tests.api.test_filters import *  # noqa: F403
