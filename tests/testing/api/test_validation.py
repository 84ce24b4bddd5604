"""tests/api/test_validation.py against the in-process complyd."""

from tests.api.test_validation import *  # noqa: F403
