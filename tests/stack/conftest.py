"""The composed local stack: a real moto server for the rest of AWS, complyd for compliance.

Owns starting moto's server (`python -m moto.server`, from `moto[server]`) on a free loopback
port for the session, emptying it between tests, and the boto3 clients the tests use.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from complyd.testing.server import free_port
from tests.api.harness import server_env

ACCOUNT = "123456789012"
REGION = "us-east-1"
START_TIMEOUT_S = 60.0


@dataclass
class Moto:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def _start_moto(log: Path) -> Moto | None:
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with open(log, "ab") as err:
        process = subprocess.Popen(
            command, stdout=err, stderr=subprocess.STDOUT, env=server_env(), cwd=log.parent
        )
    moto = Moto(port, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(moto.url + "/moto-api/data.json", timeout=1):
                return moto
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    return None


@pytest.fixture(scope="session")
def moto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    for _attempt in range(3):  # another process may take the free port first
        moto = _start_moto(log)
        if moto is not None:
            break
    else:
        pytest.fail(f"moto's server did not start:\n{log.read_text(errors='replace')[-4000:]}")
    yield moto
    moto.process.terminate()
    try:
        moto.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        moto.process.kill()
        moto.process.wait(timeout=10)


@pytest.fixture
def moto(moto_session: Moto) -> Moto:
    """The session's moto server, emptied before the test."""
    moto_session.reset()
    return moto_session


def serve_refused(cwd: Path, *options: str) -> str:
    """Run `complyd serve --store memory OPTIONS`, which must refuse to start (exit 2) with
    one clean line; that line's stderr."""
    command = [sys.executable, "-m", "complyd", "serve", "--store", "memory", *options]
    done = subprocess.run(
        command, capture_output=True, text=True, env=server_env(), cwd=cwd, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def ssm_client(
    endpoint_url: str,
    account: str = ACCOUNT,
    *,
    secret: str = "local",
    region: str = REGION,
    **config: Any,
) -> Any:
    """An ssm client for one endpoint; retries off unless the test asks for them."""
    config.setdefault("retries", {"max_attempts": 1})
    return boto3.client(
        "ssm",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=account,
        aws_secret_access_key=secret,
        config=Config(**config),
    )
