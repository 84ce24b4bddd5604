"""tests/api/test_put.py against the in-process complyd."""

from tests.api.test_put import *  # noqa: F403
