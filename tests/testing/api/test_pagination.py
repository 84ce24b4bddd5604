"""tests/api/test_pagination.py against the in-process complyd."""

from tests.api.test_pagination import *  # noqa: F403
