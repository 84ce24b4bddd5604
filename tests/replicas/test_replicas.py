"""Several complyd replicas on one PostgreSQL database behave as one server.

Real `complyd serve` processes share a fresh schema; boto3 clients in threads write through
both at once. Afterwards every (resource, type) must hold exactly one request's items, its
summary row must match those items, and the fleet counters must match a recount.
"""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from botocore.exceptions import ClientError

from complyd.config import database_url
from complyd.storage.engine import head_revision
from complyd.storage.schema import metadata
from tests.api.harness import make_client, new_instance_id, new_tenant
from tests.api.reference import (
    SEVERITIES,
    entry,
    fleet_summaries,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    project_fleet_row,
    project_resource_row,
    put,
    resource_row,
)

from .conftest import Replicas

pytestmark = pytest.mark.postgres

TYPES = ("Custom:Alpha", "Custom:Beta", "Patch")


def test_replicas_starting_together_migrate_an_empty_database_once(
    replicas: Replicas, shared_db: str
) -> None:
    servers = replicas(4)
    assert all(srv.proc is not None and srv.proc.poll() is None for srv in servers)
    engine = sa.create_engine(database_url(shared_db))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert context.get_current_heads() == (head_revision(),)
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def request_items(tag: str, rng: random.Random) -> list[dict[str, Any]]:
    """Items that name their request in Id and Title; a few requests empty the type."""
    count = rng.choice((0, 1, 2, 3, 5, 8))
    return [
        entry(
            f"{tag}-{k}",
            rng.choice(SEVERITIES),
            rng.choice(("COMPLIANT", "NON_COMPLIANT")),
            title=tag,
        )
        for k in range(count)
    ]


def test_concurrent_writers_on_two_replicas_leave_whole_requests(replicas: Replicas) -> None:
    servers = replicas(2)
    tenant = new_tenant()
    shared = [new_instance_id() for _ in range(3)]  # every writer puts to these
    writers = 8
    own = [new_instance_id() for _ in range(writers)]  # one writer each
    sent: dict[str, list[dict[str, Any]]] = {}
    sent_lock = threading.Lock()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        rng = random.Random(n)
        clients = [make_client(srv, tenant) for srv in servers]
        try:
            for round_ in range(24):
                tag = f"w{n}r{round_}"
                resource = own[n] if round_ % 3 == 0 else rng.choice(shared)
                items = request_items(tag, rng)
                with sent_lock:
                    sent[tag] = items
                # The same ExecutionTime everywhere: every put applies, the last one wins.
                put(clients[round_ % 2], resource, rng.choice(TYPES), items)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [str(e)[:300] for e in errors] == []

    for srv in servers:
        ssm = make_client(srv, tenant)
        items = list_items(ssm)
        by_row: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in items:
            by_row.setdefault((item["ResourceId"], item["ComplianceType"]), []).append(item)
        expected_rows = []
        for (rid, ctype), got in sorted(by_row.items()):
            tags = {item["Title"] for item in got}
            assert len(tags) == 1, f"{rid} {ctype} mixes requests {sorted(tags)}"
            want = sent[tags.pop()]
            assert sorted((i["Id"], i["Severity"], i["Status"]) for i in got) == sorted(
                (i["Id"], i["Severity"], i["Status"]) for i in want
            )
            expected_rows.append(resource_row(rid, ctype, want))
        rows = list_resource_summaries(ssm)
        assert [project_resource_row(r) for r in rows] == expected_rows
        assert [project_fleet_row(r) for r in list_compliance_summaries(ssm)] == fleet_summaries(
            expected_rows
        )
        # The filtered path recounts summary rows; the unfiltered one reads the counters.
        recount = list_compliance_summaries(
            ssm, [{"Key": "ComplianceType", "Values": ["Nothing"], "Type": "NOT_EQUAL"}]
        )
        assert [project_fleet_row(r) for r in recount] == fleet_summaries(expected_rows)
    # Some (resource, type) rows are contended, and most of them end up holding items.
    assert len(by_row) >= len(TYPES)


def test_a_token_from_one_replica_pages_on_another(replicas: Replicas) -> None:
    first, second = replicas(2)
    tenant = new_tenant()
    a, b = make_client(first, tenant), make_client(second, tenant)
    rid = new_instance_id()
    put(a, rid, "Custom:Pages", [entry(f"id{k:02d}") for k in range(7)])
    expected = list_items(a, rid)

    got: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ResourceIds": [rid], "MaxResults": 2}
    for client in itertools.cycle((a, b)):
        page = client.list_compliance_items(**kwargs)
        got.extend(page["ComplianceItems"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert got == expected and len(got) == 7

    put(a, new_instance_id(), "Patch", [entry("p")])
    token = a.list_resource_compliance_summaries(MaxResults=1)["NextToken"]
    assert (
        len(
            b.list_resource_compliance_summaries(MaxResults=1, NextToken=token)[
                "ResourceComplianceSummaryItems"
            ]
        )
        == 1
    )
    # Still checked on the other replica: another tenant's client cannot use it.
    with pytest.raises(ClientError) as info:
        make_client(second, new_tenant()).list_resource_compliance_summaries(
            MaxResults=1, NextToken=token
        )
    assert info.value.response["Error"]["Code"] == "InvalidNextToken"


def test_a_replica_restarting_keeps_serving_what_the_other_wrote(replicas: Replicas) -> None:
    first, second = replicas(2)
    tenant = new_tenant()
    rid = new_instance_id()
    put(make_client(first, tenant), rid, "Custom:Keep", [entry("k", "HIGH", "NON_COMPLIANT")])
    second.restart()
    rows = list_resource_summaries(make_client(second, tenant))
    assert [(r["ResourceId"], r["Status"], r["OverallSeverity"]) for r in rows] == [
        (rid, "NON_COMPLIANT", "HIGH")
    ]


def test_writers_on_different_resources_moving_shared_counters_all_succeed(
    replicas: Replicas,
) -> None:
    """Puts to different resources that flip between the same two states move the same
    counter rows in opposite directions; none may fail (say, as a deadlock) or lose a count."""
    servers = replicas(2)
    tenant = new_tenant()
    states = [entry("x", "LOW", "COMPLIANT"), entry("x", "HIGH", "NON_COMPLIANT")]
    resources = [new_instance_id() for _ in range(12)]
    errors: list[BaseException] = []

    def flip(n: int) -> None:
        clients = [make_client(srv, tenant) for srv in servers]
        try:
            for round_ in range(30):
                state = states[(n + round_) % 2]
                put(clients[(n + round_) % 2], resources[n], "Custom:Flip", [state])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=flip, args=(n,)) for n in range(len(resources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [str(e)[:300] for e in errors] == []
    ssm = make_client(servers[1], tenant)
    final = [states[(n + 29) % 2] for n in range(len(resources))]
    expected_rows = [
        resource_row(rid, "Custom:Flip", [state])
        for rid, state in zip(resources, final, strict=True)
    ]
    assert [project_resource_row(r) for r in list_resource_summaries(ssm)] == expected_rows
    assert [project_fleet_row(r) for r in list_compliance_summaries(ssm)] == fleet_summaries(
        expected_rows
    )
