"""Test complyd's users' code without a server: complyd in-process, or a real one on a free port.

    from complyd.testing import mock_compliance

    @mock_compliance()
    def test_report_is_stored():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ...

`mock_compliance()` (a context manager and decorator) answers every boto3/botocore call of the
four compliance operations in this process with the real complyd application on an empty
store of its own, with no port and no server process; other calls go on as usual (to moto, if
its `mock_aws` is active). `run_server()` starts a real `complyd serve` for tests that need
HTTP. With pytest, the `complyd_mock` and `complyd_server` fixtures (from complyd's pytest
plugin, `complyd.testing.plugin`) do the same. Importing this package needs no pytest.
"""

from complyd.testing.asgi import Reply
from complyd.testing.mock import ComplianceMock, mock_compliance
from complyd.testing.server import ComplydProcess, ServerStartError, run_server

__all__ = [
    "ComplianceMock",
    "ComplydProcess",
    "Reply",
    "ServerStartError",
    "mock_compliance",
    "run_server",
]
