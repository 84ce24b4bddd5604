"""complyd's pytest plugin (entry point `pytest11`): the `complyd_mock` and `complyd_server`
fixtures.

Owns only the fixtures; what they run lives in `complyd.testing`. Loading the plugin installs
the botocore hook, so clients created anywhere in the test session can be mocked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from complyd.testing import ComplianceMock, mock_compliance, run_server


@pytest.fixture
def complyd_mock() -> Iterator[ComplianceMock]:
    """complyd in this process for one test: every boto3 compliance call goes to an empty store."""
    with mock_compliance() as mock:
        yield mock


@pytest.fixture(scope="session")
def complyd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a real `complyd serve` on a free loopback port, for the session.

    Data lasts for the whole session: give each test its own 12-digit access key id (the
    account, in open mode) to keep tests apart.
    """
    with run_server(directory=tmp_path_factory.mktemp("complyd-server")) as server:
        yield server.url
