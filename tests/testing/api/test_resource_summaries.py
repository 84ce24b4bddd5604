"""tests/api/test_resource_summaries.py against the in-process complyd."""

from tests.api.test_resource_summaries import *  # noqa: F403
