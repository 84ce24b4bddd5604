"""boto3 calls shared by the tests of complyd.testing: clients, one put, the ids listed."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.api.reference import entry, put

RID = "i-0123456789abcdef0"


def client(
    endpoint_url: str | None = None,
    account: str | None = None,
    *,
    secret: str = "x",
    validate: bool = True,
) -> Any:
    """An ssm client; without `account` it takes credentials from the environment."""
    keys = (
        {} if account is None else {"aws_access_key_id": account, "aws_secret_access_key": secret}
    )
    return boto3.client(
        "ssm",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
        **keys,
    )


def put_one(ssm: Any, item_id: str = "disk", resource_id: str = RID) -> None:
    put(ssm, resource_id, "Custom:Disk", [entry(item_id, "HIGH", "NON_COMPLIANT")])


def item_ids(ssm: Any, resource_id: str = RID) -> list[str]:
    rows = ssm.list_compliance_items(ResourceIds=[resource_id])["ComplianceItems"]
    return [row["Id"] for row in rows]
