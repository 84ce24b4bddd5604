"""run_server(): a real `complyd serve` process on a free loopback port, for tests that need HTTP.

Owns starting the process on its own database (or its in-memory store), waiting until
`GET /healthz` answers, emptying it between tests (`POST /_complyd/reset`) and stopping it.
Clients reach it at `ComplydProcess.url` like any complyd.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ServerStartError(RuntimeError):
    """complyd did not become healthy; the message ends with the tail of its stderr."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ComplydProcess:
    """A running `complyd serve`; `url` is the endpoint_url for clients."""

    port: int
    db: Path | None  # None: the in-memory store
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, account_id: str | None = None, region: str | None = None) -> None:
        """Empty every tenant, or the one (account_id, region) when both are given.

        Open mode on loopback needs no signature; a server with --credentials refuses.
        """
        body = {} if account_id is None else {"AccountId": account_id, "Region": region}
        request = urllib.request.Request(
            self.url + "/_complyd/reset", data=json.dumps(body).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=STOP_TIMEOUT_S):
                pass
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"reset refused: HTTP {exc.code} {exc.read()[:500]!r}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)


def environment() -> dict[str, str]:
    """The server's environment: the options given are its whole configuration, so no
    COMPLYD_* variable from the caller's shell leaks in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPLYD_")}


def start_process(
    directory: Path,
    options: Sequence[str],
    stderr_name: str,
    *,
    db: Path | None = None,
    env: dict[str, str] | None = None,
) -> ComplydProcess | str:
    """`complyd serve --host 127.0.0.1 --port <a free port> OPTIONS` (OPTIONS name its store),
    run in `directory` once `/healthz` answers; else the tail of its stderr, the process gone.
    """
    port = free_port()
    stderr_path = directory / stderr_name
    command = [sys.executable, "-m", "complyd", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), *options]
    with open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env if env is not None else environment(),
            cwd=directory,
        )
    server = ComplydProcess(port, db, process, stderr_path)
    if healthy(server.url, process):
        return server
    server.stop()
    return stderr_path.read_text(errors="replace")[-4000:]


def healthy(
    url: str, process: subprocess.Popen[bytes], timeout_s: float = HEALTH_TIMEOUT_S
) -> bool:
    """Wait until `GET url/healthz` answers 200: False once `process` has exited, or after
    `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    return False


def port_taken(failure: str) -> bool:
    """Whether a start failed only because another process took the free port first."""
    return "address already in use" in failure.lower()


@contextmanager
def run_server(
    *options: str, directory: Path | None = None, memory: bool = False
) -> Iterator[ComplydProcess]:
    """Run `complyd serve OPTIONS` on 127.0.0.1 and a free port until the context ends.

    The database is `complyd.db` in `directory` (a temporary directory, removed afterwards,
    when none is given), so data lasts for the context; with `memory=True` the server keeps
    its data in memory instead (`--store memory`), and `directory` holds only its log.
    """
    with tempfile.TemporaryDirectory(prefix="complyd-server-") as scratch:
        where = directory if directory is not None else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        failure = ""
        # Another process may take the free port before the server binds it: only that retries.
        db = None if memory else where / "complyd.db"
        store = ["--store", "memory"] if db is None else ["--db", str(db)]
        for attempt in range(1, 4):
            started = start_process(where, [*store, *options], f"complyd-{attempt}.stderr", db=db)
            if isinstance(started, ComplydProcess):
                try:
                    yield started
                finally:
                    started.stop()
                return
            failure = started
            if not port_taken(failure):
                break
        raise ServerStartError(f"complyd serve {' '.join(options)} did not start:\n{failure}")
