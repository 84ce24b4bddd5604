"""A complyd server with configured keys, and clients and raw signers for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.api.harness import Server, launch

KEYS = {
    # access key id: (secret, account, read_only)
    "AKIDWRITERA000000001": ("writer-a-secret-0123456789", "111111111111", False),
    "AKIDREADERA000000001": ("reader-a-secret-0123456789", "111111111111", True),
    "AKIDWRITERB000000001": ("writer-b-secret-0123456789", "222222222222", False),
}
WRITER_A, READER_A, WRITER_B = KEYS


def credentials_toml() -> str:
    entries = []
    for key_id, (secret, account, read_only) in KEYS.items():
        entries.append(
            f'[[keys]]\naccess_key_id = "{key_id}"\nsecret_access_key = "{secret}"\n'
            f'account_id = "{account}"\nread_only = {"true" if read_only else "false"}\n'
        )
    return "\n".join(entries)


def write_credentials(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "credentials.toml"
    path.write_text(credentials_toml())
    return path


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("keyed")
    creds = write_credentials(directory)
    srv = launch(directory, ("--credentials", str(creds), "--log-level", "debug"))
    yield srv
    srv.stop()


ClientFactory = Callable[..., Any]


def client(
    server: Server, key_id: str, secret: str | None = None, region: str = "us-east-1", **config: Any
) -> Any:
    config.setdefault("retries", {"max_attempts": 1})
    return boto3.client(
        "ssm",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret if secret is not None else KEYS[key_id][0],
        config=Config(**config),
    )
