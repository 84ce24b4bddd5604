"""Sending checked puts: printed (dry run), applied to a store through the service, or sent
through botocore to an endpoint (complyd or AWS itself).

Owns the three ways out and turning their failures into one line that says how many puts went
out before. Puts go one at a time, in order; each is applied whole or not at all. Must not
build or change a request body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from complyd.config import DEFAULT_REGION, Settings, database_url
from complyd.errors import ComplianceError
from complyd.model import DEFAULT_ACCOUNT_ID, Tenant
from complyd.operator.ingest.puts import Put
from complyd.operator.opening import opened
from complyd.wire import codec


class DeliveryError(Exception):
    """A put that could not be sent or was refused; `sent` puts went out before it."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass
class Delivered:
    where: str = ""
    sent: int = 0
    unchanged: int = 0  # known only when applied to a store


def _refused(put: Put, index: int, total: int, reason: str) -> DeliveryError:
    rid, ctype = put.key
    before = f"{index} of {total} puts were sent before it" if index else "nothing was sent"
    return DeliveryError(f"{put.source}: {ctype} for {rid}: {reason} ({before})", index)


def print_puts(puts: Sequence[Put]) -> Delivered:
    """JSON lines on standard output, one request body each: `complyd import` reads them."""
    out = sys.stdout.buffer
    for put in puts:
        out.write(orjson.dumps(put.body) + b"\n")
    out.flush()
    return Delivered(where="standard output")


def apply_to_store(
    puts: Sequence[Put],
    db: str,
    *,
    account: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    any_resource_id: bool = False,
) -> Delivered:
    import sqlalchemy as sa

    shown = sa.make_url(database_url(db)).render_as_string(hide_password=True)
    done = Delivered(where=shown)
    tenant = Tenant(account, region)
    try:
        with opened(db, Settings(any_resource_id=any_resource_id), create=True) as service:
            for index, put in enumerate(puts):
                try:
                    outcome = service.put_compliance_items(tenant, codec.decode_put(put.body))
                except ComplianceError as error:
                    reason = f"{error.code}: {error.message}"
                    raise _refused(put, index, len(puts), reason) from None
                done.sent += 1
                done.unchanged += not outcome.applied
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        applied = f"{done.sent} puts were applied before" if done.sent else "nothing was applied"
        raise DeliveryError(f"store {shown}: {reason} ({applied})", done.sent) from None
    return done


def send_to_endpoint(
    puts: Sequence[Put],
    endpoint_url: str | None,
    *,
    region: str | None = None,
    profile: str | None = None,
) -> Delivered:
    """PutComplianceItems through botocore: the usual credential chain, region and retries."""
    import botocore.config
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session(profile=profile)
        client = session.create_client(
            "ssm",
            endpoint_url=endpoint_url,
            region_name=region,
            config=botocore.config.Config(retries={"mode": "standard"}),
        )
    except botocore.exceptions.NoRegionError:
        raise DeliveryError(
            "no AWS region: pass --region, or set AWS_DEFAULT_REGION or a profile's region", 0
        ) from None
    except (botocore.exceptions.BotoCoreError, ValueError) as exc:
        raise DeliveryError(f"cannot make an SSM client: {exc}", 0) from None
    done = Delivered(where=f"{client.meta.endpoint_url} ({client.meta.region_name})")
    call: Callable[..., Any] = client.put_compliance_items
    for index, put in enumerate(puts):
        try:
            call(**put.body)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
            raise _refused(put, index, len(puts), reason) from None
        except botocore.exceptions.NoCredentialsError:
            raise _refused(
                put,
                index,
                len(puts),
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use a "
                "profile (a complyd server in open mode takes any key; a 12-digit key id is "
                "the account)",
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise _refused(put, index, len(puts), str(exc)) from None
        done.sent += 1
    return done
