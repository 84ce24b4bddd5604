"""tests/api/test_tenancy.py against the in-process complyd."""

from tests.api.test_tenancy import *  # noqa: F403

# It sends raw HTTP to the server's URL with urllib, which no botocore hook sees.
del test_region_comes_from_the_credential_scope  # noqa: F821
