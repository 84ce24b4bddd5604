"""Running `complyd` operator commands as subprocesses, and comparing with boto3's answers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from typing import Any

from tests.api.harness import server_env


def complyd(*args: str, ok: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "complyd", *args]
    done = subprocess.run(cmd, env=server_env(), capture_output=True, text=True, timeout=timeout)
    if ok:
        assert done.returncode == 0, (cmd, done.stdout, done.stderr)
    return done


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def plain(value: Any) -> Any:
    """A boto3 answer as the wire sent it: datetimes back to epoch seconds, metadata dropped."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
