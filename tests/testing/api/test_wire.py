"""tests/api/test_wire.py against the in-process complyd."""

from tests.api.test_wire import *  # noqa: F403

# These send raw HTTP to the server's URL with urllib, which no botocore hook sees (the mock's
# own raw requests are tested in tests/testing/test_mock.py).
del test_healthz  # noqa: F821
del test_application_json_is_accepted  # noqa: F821
del test_unknown_target  # noqa: F821
del test_missing_authorization  # noqa: F821
