"""tests/api/test_limits.py against the in-process complyd."""

from tests.api.test_limits import *  # noqa: F403

# These start private servers with other flags and call them over HTTP.
del test_item_size_limit_option  # noqa: F821
del test_total_size_limit_option  # noqa: F821
