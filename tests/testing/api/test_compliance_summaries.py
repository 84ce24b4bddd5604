"""tests/api/test_compliance_summaries.py against the in-process complyd."""

from tests.api.test_compliance_summaries import *  # noqa: F403
