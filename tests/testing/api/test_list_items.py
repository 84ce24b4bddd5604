"""tests/api/test_list_items.py against the in-process complyd."""

from tests.api.test_list_items import *  # noqa: F403
