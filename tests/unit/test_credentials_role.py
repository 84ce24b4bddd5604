"""The credentials file's optional `role`: "admin" or "auditor", anything else refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from complyd.config import ConfigError, load_credentials

ENTRY = """[[keys]]
access_key_id = "AKIAROLE000000000001"
secret_access_key = "a-secret-of-sixteen-or-more"
account_id = "123456789012"
"""


@pytest.mark.parametrize(
    "line,role", [("", ""), ('role = "auditor"', "auditor"), ('role = "admin"', "admin")]
)
def test_roles_that_load(tmp_path: Path, line: str, role: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(ENTRY + line + "\n")
    [key] = load_credentials(path).values()
    assert key.role == role and key.account_id == "123456789012"


@pytest.mark.parametrize("line", ['role = "root"', "role = 1", 'role = "AUDITOR"'])
def test_other_roles_are_refused(tmp_path: Path, line: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(ENTRY + line + "\n")
    with pytest.raises(
        ConfigError, match=r'AKIAROLE000000000001\): role must be "admin" or "auditor"'
    ):
        load_credentials(path)
