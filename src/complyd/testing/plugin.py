"""complyd's pytest plugin (entry point `pytest11`): the `complyd_mock`, `complyd_server` and
`complyd_server_process` fixtures.

Owns only the fixtures; what they run lives in `complyd.testing`. Loading the plugin installs
the botocore hook, so clients created anywhere in the test session can be mocked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from complyd.testing import ComplianceMock, ComplydProcess, mock_compliance, run_server


@pytest.fixture
def complyd_mock() -> Iterator[ComplianceMock]:
    """complyd in this process for one test: every boto3 compliance call goes to an empty store."""
    with mock_compliance() as mock:
        yield mock


@pytest.fixture(scope="session")
def complyd_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComplydProcess]:
    """One real `complyd serve` on a free loopback port and an in-memory store, for the session."""
    with run_server(directory=tmp_path_factory.mktemp("complyd-server"), memory=True) as server:
        yield server


@pytest.fixture
def complyd_server(complyd_server_process: ComplydProcess) -> str:
    """The endpoint URL of the session's real `complyd serve`, emptied before each test
    (`POST /_complyd/reset`), so every test starts on an empty store without a restart."""
    complyd_server_process.reset()
    return complyd_server_process.url
