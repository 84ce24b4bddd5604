"""Concurrent writers with a known order, and the checks of what a store holds afterwards.

Owns the writer workload shared by the crash and concurrency tests: threads each with their own
boto3 client put distinct item sets (every item of a put carries that put's tag) to shared and
private (resource, type) pairs, in ExecutionTime order drawn from one global clock, and record
each put as acknowledged, refused or unknown (in flight when the connection broke). Because the
server keeps the newest ExecutionTime, the expected final state of a pair is decided by those
times, whatever order the server committed them in. Also owns reading a tenant whole and
checking it: each pair holds exactly one put's item set, summaries agree with items, and
ListComplianceSummaries agrees with a recount of the summary rows.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.api.harness import Server, Tenant, make_client
from tests.api.reference import (
    SEVERITIES,
    fleet_summaries,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    project_fleet_row,
    project_resource_row,
    resource_row,
)

Key = tuple[str, str]  # (resource id, compliance type)
T0_MS = 1_700_000_000_000
ACKED, REFUSED, UNKNOWN = "acked", "refused", "unknown"


@dataclass
class Put:
    writer: int
    seq: int
    key: Key
    time_ms: int
    items: list[dict[str, Any]]
    outcome: str = UNKNOWN
    run: int = 0

    @property
    def tag(self) -> str:
        return f"r{self.run}w{self.writer}s{self.seq}"


class Clock:
    """Strictly increasing ExecutionTimes (ms) shared by every writer."""

    def __init__(self, first_ms: int = T0_MS) -> None:
        self._next = itertools.count(first_ms)
        self._lock = threading.Lock()

    def tick(self) -> int:
        with self._lock:
            return next(self._next)


def item_set(rng: random.Random, tag: str, *, may_empty: bool) -> list[dict[str, Any]]:
    """1 to 12 items, every one naming the put it belongs to; or, if `may_empty`, sometimes
    none, which removes the type."""
    n = rng.choice([1, 2, 3, 5, 12])
    if may_empty and rng.random() < 0.15:
        n = 0
    return [
        {
            "Id": f"{tag}-{k}",
            "Title": f"{tag} item {k}",
            "Severity": rng.choice(SEVERITIES),
            "Status": rng.choice(["COMPLIANT", "NON_COMPLIANT"]),
            "Details": {"Put": tag},
        }
        for k in range(n)
    ]


@dataclass
class Writers:
    """`count` threads putting to `shared` pairs and to pairs of their own until stopped."""

    server: Server
    tenant: Tenant
    shared: list[Key]
    private: dict[int, list[Key]]
    count: int
    seed: int
    max_puts: int | None = None
    first_ms: int = T0_MS
    puts: list[Put] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = Clock(self.first_ms)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # Clients are made here: creating boto3 clients is not thread-safe.
        self.clients = [make_client(self.server, self.tenant) for _ in range(self.count)]
        self.threads = [
            threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(self.count)
        ]

    def start(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def join(self, timeout: float = 60) -> None:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a writer hung"

    def acked(self) -> int:
        with self.lock:
            return sum(1 for p in self.puts if p.outcome == ACKED)

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def _run(self, writer: int) -> None:
        rng = random.Random(self.seed * 1000 + writer)
        ssm = self.clients[writer]
        keys = self.shared + self.private.get(writer, [])
        for seq in itertools.count():
            if self.stop.is_set() or (self.max_puts is not None and seq >= self.max_puts):
                return
            key = rng.choice(keys)
            put = Put(writer, seq, key, self.clock.tick(), [], run=self.seed)
            # Emptying a type removes its row and with it the stored ExecutionTime, after which
            # an older put is applied again (README, "Emptying a type"). So only pairs with one
            # writer, whose puts never overtake each other, are emptied.
            put.items = item_set(rng, put.tag, may_empty=key not in self.shared)
            with self.lock:
                self.puts.append(put)
            try:
                ssm.put_compliance_items(
                    ResourceId=key[0],
                    ResourceType="ManagedInstance",
                    ComplianceType=key[1],
                    ExecutionSummary={
                        "ExecutionTime": datetime.fromtimestamp(put.time_ms / 1000, tz=UTC),
                        "ExecutionId": put.tag,
                    },
                    Items=put.items,
                )
            except ClientError as exc:
                # An AWS error answer: the put was refused and changed nothing.
                put.outcome = REFUSED
                self.errors.append(exc)
                return
            except (BotoCoreError, OSError):
                # The connection broke (the server was killed): the put may or may not have
                # been committed. This writer stops, as a client whose server went away would.
                return
            put.outcome = ACKED


# --- reading a tenant back and checking it -----------------------------------------------


@dataclass
class Holdings:
    items: dict[Key, list[dict[str, Any]]]
    rows: list[dict[str, Any]]
    fleet: list[dict[str, Any]]


def read_tenant(server: Server, tenant: Tenant) -> Holdings:
    ssm = make_client(server, tenant)
    items: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for item in list_items(ssm):
        items[(item["ResourceId"], item["ComplianceType"])].append(item)
    return Holdings(dict(items), list_resource_summaries(ssm), list_compliance_summaries(ssm))


def put_holding(key: Key, items: list[dict[str, Any]], puts: list[Put]) -> Put:
    """The one put whose item set `items` is, in full, with its own execution summary."""
    tags = {item["Details"].get("Put") for item in items}
    assert len(tags) == 1, f"{key} mixes the items of puts {sorted(map(str, tags))}"
    tag = tags.pop()
    found = [p for p in puts if p.key == key and p.tag == tag]
    assert len(found) == 1, f"{key} holds items of {tag}, which put to it {len(found)} times"
    put = found[0]

    def shown(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((r["Id"], r["Title"], r["Severity"], r["Status"]) for r in rows)

    assert shown(items) == shown(put.items), f"{key} holds part of {tag}"
    for item in items:
        assert item["ExecutionSummary"]["ExecutionId"] == tag
        assert round(item["ExecutionSummary"]["ExecutionTime"].timestamp() * 1000) == put.time_ms
    return put


def check_consistent(held: Holdings) -> None:
    """Summary rows agree with the items, and fleet summaries with a recount of the rows."""
    expected_rows = {key: resource_row(*key, items) for key, items in held.items.items()}
    got_rows = {(r["ResourceId"], r["ComplianceType"]): project_resource_row(r) for r in held.rows}
    assert got_rows == expected_rows
    assert [project_fleet_row(r) for r in held.fleet] == fleet_summaries(held.rows)


def check_last_writer_wins(held: Holdings, puts: list[Put], *, crashed: bool) -> None:
    """Each pair holds the put with the newest ExecutionTime among those that may have been
    applied: every acknowledged put, and (after a crash) those whose answer was lost. A pair
    with no items was last emptied (or never written, if nothing was acknowledged)."""
    by_key: dict[Key, list[Put]] = defaultdict(list)
    for put in puts:
        by_key[put.key].append(put)
    assert set(held.items) <= set(by_key), "items under a pair nobody wrote"
    for key, sent in by_key.items():
        acked = [p for p in sent if p.outcome == ACKED]
        possible = [p for p in sent if p.outcome == ACKED or (crashed and p.outcome == UNKNOWN)]
        newest_acked = max((p.time_ms for p in acked), default=-1)
        items = held.items.get(key)
        if items is not None:
            holder = put_holding(key, items, puts)
            assert holder in possible, f"{key} holds {holder.tag}, whose put was {holder.outcome}"
            newer = [p for p in acked if p.time_ms > holder.time_ms]
            assert not newer, f"{key} holds {holder} but lost acknowledged {newer}"
            if not crashed:
                assert holder.time_ms == newest_acked
            continue
        # No items: the newest applied put emptied the pair, or nothing was acknowledged.
        empties = [p for p in possible if not p.items and p.time_ms >= newest_acked]
        assert empties or not acked, f"{key} lost its acknowledged items"
        if not crashed and acked:
            newest = max(acked, key=lambda p: p.time_ms)
            assert not newest.items, f"{key} lost {newest.tag}"


def wait_for(predicate: Any, timeout: float, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)
