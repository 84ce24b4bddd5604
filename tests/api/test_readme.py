"""The README's client examples, run exactly as written against a real server.

Only the endpoint's port changes (the README's 4590 becomes the test server's port); the code
and commands are taken from the README itself, so an example that stops working fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ServerFactory
from .harness import REPO, server_env

README = REPO / "README.md"
DOCUMENTED_ENDPOINT = "http://127.0.0.1:4590"


def block_after(heading: str, language: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    found = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert found is not None, f"no {language} block after {heading!r}"
    return found.group(1)


def test_the_boto3_example_runs_as_written(server_factory: ServerFactory, tmp_path: Path) -> None:
    srv = server_factory()
    code = block_after("### boto3", "python")
    assert DOCUMENTED_ENDPOINT in code
    script = tmp_path / "example.py"
    script.write_text(code.replace(DOCUMENTED_ENDPOINT, srv.url))
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=server_env(),
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == [
        "i-0123456789abcdef0",
        "Custom:DiskEncryption",
        "NON_COMPLIANT",
        "HIGH",
    ]
    assert lines[1].split() == ["root-volume", "HIGH"]


def test_the_aws_cli_example_runs_as_written(server_factory: ServerFactory) -> None:
    srv = server_factory()
    commands = block_after("### AWS CLI", "sh")
    assert DOCUMENTED_ENDPOINT in commands
    aws = Path(sys.executable).parent / "aws"
    env = dict(server_env(), PATH=f"{aws.parent}:{server_env().get('PATH', '')}")
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands.replace(DOCUMENTED_ENDPOINT, srv.url)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    rows = [line.split() for line in run.stdout.splitlines() if line.strip()]
    assert rows == [["FleetTotal", "1"], ["Custom:DiskEncryption", "1"]]
