"""Table definitions (SQLAlchemy Core), the one description of the schema the code expects.

Alembic migrations create exactly this; a test compares the two. Keys sort bytewise on every
engine (binary collation on PostgreSQL) so keyset pagination agrees across stores.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from complyd.model import Severity

metadata = sa.MetaData()

# Bytewise ordering on PostgreSQL; SQLite's default collation is already BINARY.
Key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

SEVERITY_COLUMNS = tuple(s.value.lower() for s in Severity)
COMPLIANT_COLUMNS = tuple(f"compliant_{s}" for s in SEVERITY_COLUMNS)
NON_COMPLIANT_COLUMNS = tuple(f"non_compliant_{s}" for s in SEVERITY_COLUMNS)
RESOURCE_KEY = ("account_id", "region", "resource_id", "compliance_type")


def _resource_key(primary_key: bool) -> list[sa.Column[str]]:
    """The (tenant, resource, compliance type) columns every per-resource table starts with."""
    return [sa.Column(name, Key, primary_key=primary_key, nullable=False) for name in RESOURCE_KEY]


def _execution(nullable: bool) -> list[sa.Column[Any]]:
    """An execution summary: time (epoch milliseconds), id and type."""
    return [
        sa.Column("execution_time_ms", sa.BigInteger, nullable=nullable),
        sa.Column("execution_id", sa.Text, nullable=True),
        sa.Column("execution_type", sa.Text, nullable=True),
    ]


compliance_items = sa.Table(
    "compliance_items",
    metadata,
    *_resource_key(primary_key=True),
    sa.Column("item_key", Key, primary_key=True),
    sa.Column("item_id", sa.Text, nullable=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    *_execution(nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    # Rows live in the primary-key B-tree itself, not also in a rowid table: half the writes.
    sqlite_with_rowid=False,
)

ITEMS_DIGEST = "items_digest"
resource_summaries = sa.Table(
    "resource_summaries",
    metadata,
    *_resource_key(primary_key=True),
    sa.Column("resource_type", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("overall_severity", sa.String(16), nullable=False),
    *(sa.Column(name, sa.Integer, nullable=False) for name in COMPLIANT_COLUMNS),
    *(sa.Column(name, sa.Integer, nullable=False) for name in NON_COMPLIANT_COLUMNS),
    *_execution(nullable=False),
    sa.Column("content_hash", sa.Text, nullable=True),
    sa.Column("patch_group", sa.Text, nullable=True),
    sa.Column("total_size", sa.BigInteger, nullable=False),
    # A digest of the type's item rows but their execution summaries (storage.write), so a put
    # that re-reports the same items rewrites only those; NULL where not yet known.
    sa.Column(ITEMS_DIGEST, sa.LargeBinary, nullable=True),
    sa.Index(
        "ix_resource_summaries_type",
        "account_id",
        "region",
        "compliance_type",
        "resource_id",
    ),
    # Rows live in the primary-key B-tree itself, not also in a rowid table: half the writes.
    sqlite_with_rowid=False,
)

# A summary record's columns: every column but the items' digest, which only writes use.
SUMMARY_FIELDS = [c for c in resource_summaries.c if c.name != ITEMS_DIGEST]

# Resources per (type, status, overall severity), kept current by every put, so unfiltered
# fleet summaries read a handful of rows however large the fleet. FLEET_KEY holds the rollup
# of each resource over all its types (the FleetTotal row).
FLEET_KEY = ""
compliance_counts = sa.Table(
    "compliance_counts",
    metadata,
    sa.Column("account_id", Key, primary_key=True),
    sa.Column("region", Key, primary_key=True),
    sa.Column("compliance_type", Key, primary_key=True),
    sa.Column("status", sa.String(16), primary_key=True),
    sa.Column("severity", sa.String(16), primary_key=True),
    sa.Column("resources", sa.BigInteger, nullable=False),
    # Rows live in the primary-key B-tree itself, not also in a rowid table: half the writes.
    sqlite_with_rowid=False,
)

# Row ids that are INTEGER PRIMARY KEY on SQLite (its rowid, so autoincrementing) and BIGINT
# identities on PostgreSQL.
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Every change of a (resource, type) summary, written by the put that made it. status NULL:
# the type was removed. fleet_delta moves the tenant's non-compliant resource count and
# type_delta the type's, so either count over time is the current count minus the deltas
# recorded since.
compliance_history = sa.Table(
    "compliance_history",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    *_resource_key(primary_key=False),
    sa.Column("recorded_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("overall_severity", sa.String(16), nullable=True),
    sa.Column("compliant_count", sa.Integer, nullable=False),
    sa.Column("non_compliant_count", sa.Integer, nullable=False),
    *_execution(nullable=True),
    sa.Column("fleet_delta", sa.SmallInteger, nullable=False),
    # Moves the (resource's) compliance type's non-compliant resource count: -1, 0 or 1.
    sa.Column("type_delta", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Index("ix_compliance_history_resource", "account_id", "region", "resource_id", "id"),
    sa.Index("ix_compliance_history_time", "account_id", "region", "recorded_ms"),
)

# The outbox of state-change events: written in the put's transaction, deleted once delivered.
compliance_events = sa.Table(
    "compliance_events",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    *_resource_key(primary_key=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
)

server_state = sa.Table(
    "server_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
)
