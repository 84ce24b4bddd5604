"""A store that cannot be opened stops `serve` and `migrate` with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .harness import server_env


@pytest.mark.parametrize(
    "command,db,reason",
    [
        ("serve", "postgresql://postgres@127.0.0.1:5432/test?pool_size=abc", "pool_size must be"),
        ("migrate", "postgresql://nobody@127.0.0.1:1/none", "Connection refused"),
        ("serve", "/proc/no-such-dir/complyd.db", "No such file or directory"),
    ],
)
def test_unopenable_store(tmp_path: Path, command: str, db: str, reason: str) -> None:
    args = [sys.executable, "-m", "complyd", command, "--db", db]
    if command == "serve":
        args += ["--port", "0"]  # never reached: the store fails first
    result = subprocess.run(
        args, capture_output=True, text=True, env=server_env(), cwd=tmp_path, timeout=60
    )
    assert result.returncode == 1
    assert "Error: cannot open the store" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
