"""Run every benchmark: `python -m bench [--quick] [--postgres URL] [--workers N] [--only ...]`.

Each figure is printed beside a baseline measured in the same run (a trivial handler on the
same server stack, measured again beside every figure it divides; raw SQLite writes), as a
ratio, because shared machines drift; the run ends with the table of goals, each marked met or
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from complyd.config import database_url
from complyd.storage.engine import analyze_unanalyzed
from complyd.storage.sql import SqlStore
from complyd.testing.server import (
    ComplydProcess,
    environment,
    free_port,
    healthy,
    start_process,
)

from .goals import Goals
from .load import credentials_toml, replay_once, run_wrk, signed_raw
from .preload import preload, resource_id
from .replicas import replicas

ROOT = Path(__file__).resolve().parents[1]


def bench_env() -> dict[str, str]:
    """Servers run from the repository root, so `bench` and `src` import."""
    return dict(environment(), PYTHONPATH=str(ROOT / "src"))


@contextmanager
def process(cmd: list[str], port: int, logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server that is not complyd (the baseline) until healthy."""
    log = logs / f"server-{port}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=bench_env(), stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        if not healthy(f"http://127.0.0.1:{port}", proc, 60):
            raise RuntimeError(log.read_text()[-3000:])
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def complyd(
    db_url: str, work: Path, workers: int = 1
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    creds = work / "credentials.toml"
    creds.write_text(credentials_toml())
    options = ["--db", db_url, "--credentials", str(creds), "--log-level", "warning"]
    if workers > 1:
        options += ["--workers", str(workers)]
    started = start_process(work, options, f"complyd-{time.monotonic_ns()}.stderr", env=bench_env())
    if not isinstance(started, ComplydProcess):
        raise RuntimeError(started)
    try:
        yield started.port, started.process
    finally:
        started.stop()


def rss_mib(proc: subprocess.Popen[bytes]) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def put_body(n: int, items: int, small: bool = False, changing: bool = False) -> dict[str, Any]:
    """Put n of a scenario. Replayed in a cycle, a scenario's puts re-report what each resource
    holds, except with `changing`: then the puts come in two halves over the same resources,
    with different items, so every put rewrites what the one before it to that resource wrote."""
    if small:  # 10,000 items of ~55 bytes: well inside the 1 MiB limit of one put
        node, prefix = (n % 2, "cd"[n // 2 % 2]) if changing else (n, "c")
        return {
            "ResourceId": resource_id(20_000_000 + node),
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Custom:Big",
            "ExecutionSummary": {"ExecutionTime": 1_700_000_000},
            "Items": [
                {"Id": f"{prefix}{k}", "Severity": "HIGH", "Status": "COMPLIANT"}
                for k in range(items)
            ],
        }
    node, version = (n % 1000, " (v2)" if n // 1000 % 2 else "") if changing else (n, "")
    return {
        "ResourceId": resource_id(10_000_000 + node),
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:Bench",
        "ExecutionSummary": {"ExecutionTime": 1_700_000_000 + node % 7},
        "Items": [
            {
                "Id": f"c{k}",
                "Title": f"check {k}{version}",
                "Severity": "HIGH",
                "Status": "COMPLIANT" if k % 3 else "NON_COMPLIANT",
                "Details": {"DocumentName": "bench"},
            }
            for k in range(items)
        ],
    }


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def add(self, name: str, text: str) -> None:
        self.rows.append((name, text))
        print(f"{name:<58} {text}", flush=True)


class Baseline:
    """The trivial POST handler on the same stack (one process), kept running for the whole
    run and measured again beside each figure it divides: this machine's speed drifts within a
    run, so a ratio compares two figures taken a few seconds apart, never minutes."""

    def __init__(self, work: Path, seconds: float, report: Report) -> None:
        self._port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "bench.trivial_app:app", "--port"]
        cmd += [str(self._port), "--log-level", "warning", "--no-access-log"]
        self._server = process(cmd, self._port, work)
        self._server.__enter__()
        self._request = signed_raw(self._port, "PutComplianceItems", put_body(0, 10))
        self._seconds = seconds
        self._report = report
        self.samples: list[float] = []

    def paired(self, label: str) -> float:
        """The trivial handler's throughput at 16 connections, measured now."""
        result = run_wrk(self._port, [self._request], 16, self._seconds / 2)
        self.samples.append(result.requests_per_s)
        self._report.add(f"{label}:   trivial handler, measured beside it", result.line())
        return result.requests_per_s

    def close(self) -> None:
        self._server.__exit__(None, None, None)


def raw_sqlite(path: Path, create: str) -> sqlite3.Connection:
    """A plain sqlite3 database for a baseline, with complyd's durability (WAL +
    synchronous=FULL), and its one table made by `create`."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(create)
    return db


def baseline_sqlite(work: Path, seconds: float, report: Report) -> float:
    """Raw sqlite3: 10-row replace-sets, 16 per committed transaction, WAL + synchronous=FULL."""
    db = raw_sqlite(
        work / "raw.db",
        "CREATE TABLE items (r TEXT, t TEXT, k TEXT, title TEXT, sev TEXT, st TEXT, "
        "details TEXT, PRIMARY KEY (r, t, k))",
    )
    sets, deadline, n = 0, time.perf_counter() + seconds, 0
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        db.execute("BEGIN IMMEDIATE")
        for _ in range(16):
            r = f"i-{n % 5000:017x}"
            n += 1
            db.execute("DELETE FROM items WHERE r = ? AND t = 'Custom:Bench'", (r,))
            db.executemany(
                "INSERT INTO items VALUES (?, 'Custom:Bench', ?, ?, 'HIGH', 'COMPLIANT', ?)",
                [(r, f"c{k}", f"check {k}", '{"DocumentName":"bench"}') for k in range(10)],
            )
            sets += 1
        db.execute("COMMIT")
    rate = sets / (time.perf_counter() - start)
    db.close()
    report.add("baseline: raw SQLite 10-item replace-sets (16/commit)", f"{rate:10,.0f} sets/s")
    return rate


# The columns after the id of each small item of the 10,000-item put, as complyd stores them:
# title, status, severity, details, execution time (ms), execution id and type, size.
ITEM_VALUES = (None, "COMPLIANT", "HIGH", "{}", 1_700_000_000_000, None, None, 15)


def baseline_sqlite_large(work: Path, seconds: float, report: Report) -> float:
    """Raw sqlite3: the bench's 10,000-item put as a plain program would write it, in a table of
    complyd's item columns and key: one transaction of a DELETE, an executemany of the rows and
    a COMMIT (WAL + synchronous=FULL), replacing the items of 4 resources in turn."""
    db = raw_sqlite(
        work / "raw-large.db",
        "CREATE TABLE items (account TEXT, region TEXT, r TEXT, t TEXT, k TEXT, id TEXT, "
        "title TEXT, st TEXT, sev TEXT, details TEXT, ms INTEGER, eid TEXT, etype TEXT, "
        "size INTEGER, PRIMARY KEY (account, region, r, t, k)) WITHOUT ROWID",
    )
    puts, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        key = ("123456789012", "us-east-1", resource_id(20_000_000 + puts % 4), "Custom:Big")
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM items WHERE account = ? AND region = ? AND r = ? AND t = ?", key)
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, f"ac{k}", f"c{k}", *ITEM_VALUES) for k in range(10_000)],
        )
        db.execute("COMMIT")
        puts += 1
    rate = puts * 10_000 / (time.perf_counter() - start)
    db.close()
    report.add("baseline: raw SQLite 10,000-item replace (1/commit)", f"{rate:10,.0f} items/s")
    return rate


def writes(
    label: str,
    db_url: str,
    work: Path,
    seconds: float,
    report: Report,
    baseline: Baseline,
    raw_sets: float,
    goals: Goals,
    workers: int,
) -> None:
    with complyd(db_url, work, workers) as (port, _proc):
        puts = [signed_raw(port, "PutComplianceItems", put_body(n, 10)) for n in range(2000)]
        # The fleet reports once before the figures: they are of re-reports, a fleet's usual
        # put, on tables with planner statistics, as autovacuum gathers them after a load.
        replay_once(port, puts)
        analyze(db_url)
        one = run_wrk(port, puts, 1, seconds / 2, threads=1)
        report.add(f"{label}: PutComplianceItems 10 items, 1 conn", one.line())
        r = run_wrk(port, puts, 16, seconds)
        report.add(f"{label}: PutComplianceItems 10 items, 16 conns", r.line())
        ratio = r.requests_per_s / baseline.paired(f"{label}: PutComplianceItems")
        report.add(
            f"{label}:   vs trivial handler / vs raw SQLite sets",
            f"{ratio:10.2f} x   {r.requests_per_s / raw_sets:6.2f} x",
        )
        changing = [
            signed_raw(port, "PutComplianceItems", put_body(n, 10, changing=True))
            for n in range(2000)
        ]
        c = run_wrk(port, changing, 16, seconds)
        report.add(f"{label}: PutComplianceItems 10 changed items, 16 conns", c.line())
        report.add(
            f"{label}:   vs trivial handler",
            f"{c.requests_per_s / baseline.paired(f'{label}: changed items'):10.2f} x",
        )
        floor = 0.25 if label == "sqlite" else 0.15
        goals.at_least("put of 10 items, 16 conns, vs trivial handler", label, ratio, floor, " x")
        if label == "sqlite":
            goals.at_most("put of 10 items, 16 conns, p99", label, r.p99_ms, 25, " ms")
        goals.at_least(
            "put throughput, 16 conns vs 1", label, r.requests_per_s / one.requests_per_s, 1, " x"
        )
        big = [
            signed_raw(port, "PutComplianceItems", put_body(n, 10_000, small=True, changing=True))
            for n in range(4)
        ]
        if label == "sqlite":
            raw_large, raw_name = baseline_sqlite_large(work, seconds / 2, report), "SQLite"
        else:
            raw_large, raw_name = baseline_postgres_large(db_url, seconds / 2, report), "psycopg"
        r = run_wrk(port, big, 1, seconds, threads=1)
        report.add(
            f"{label}: PutComplianceItems 10,000 items, 1 conn",
            f"{r.requests_per_s * 10_000:10,.0f} items/s  p50 {r.p50_ms:7.1f} ms  "
            f"({r.requests} puts, {r.errors} errors)",
        )
        report.add(
            f"{label}:   vs raw {raw_name} 10,000-item replace",
            f"{r.requests_per_s * 10_000 / raw_large:10.2f} x",
        )
        goals.at_least("one 10,000-item put", label, r.requests_per_s * 10_000, 100_000, " items/s")


# The list calls measured on each store; "filtered" selects one compliance type, the
# console's usual filter.
LIST_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "ListComplianceItems": ("ListComplianceItems", {"MaxResults": 50}),
    "ListResourceComplianceSummaries": ("ListResourceComplianceSummaries", {"MaxResults": 50}),
    "ListComplianceSummaries": ("ListComplianceSummaries", {}),
    "ListComplianceSummaries, filtered": (
        "ListComplianceSummaries",
        {"Filters": [{"Key": "ComplianceType", "Values": ["Patch"]}]},
    ),
}
# Goals per call: (SQLite floor, PostgreSQL floor) as ratios to the trivial handler.
LIST_GOALS = {
    "ListComplianceItems": (0.25, 0.2),
    "ListResourceComplianceSummaries": (0.25, 0.2),
    "ListComplianceSummaries": (0.4, 0.3),
    "ListComplianceSummaries, filtered": (0.4, 0.3),
}


def reads(
    label: str,
    db_url: str,
    work: Path,
    resources: int,
    seconds: float,
    report: Report,
    baseline: Baseline,
    goals: Goals | None,
    workers: int,
) -> dict[str, float]:
    """Every list call at 1 and at 16 connections on a preloaded store; `goals` for the large
    store only."""
    store = SqlStore(db_url)
    t0 = time.perf_counter()
    items = preload(store, resources, 10)
    store.close()
    report.add(f"{label}: preloaded", f"{items:10,} items in {time.perf_counter() - t0:.0f} s")
    out: dict[str, float] = {}
    with complyd(db_url, work, workers) as (port, proc):
        for name, (op, body) in LIST_CALLS.items():
            one = run_wrk(port, [signed_raw(port, op, body)], 1, seconds / 2, threads=1)
            many = run_wrk(port, [signed_raw(port, op, body)], 16, seconds / 2)
            out[name] = one.p50_ms
            report.add(f"{label} {items:,} items: {name}, 1 conn", one.line())
            report.add(f"{label} {items:,} items: {name}, 16 conns", many.line())
            if goals is None:
                continue
            floor = LIST_GOALS[name][0 if label == "sqlite" else 1]
            ratio = many.requests_per_s / baseline.paired(f"{label} {items:,} items: {name}")
            report.add(f"{label} {items:,} items: {name}, vs trivial handler", f"{ratio:10.2f} x")
            goals.at_least(f"{name}, 16 conns, vs trivial handler", label, ratio, floor, " x")
            goals.at_least(
                f"{name} throughput, 16 conns vs 1",
                label,
                many.requests_per_s / one.requests_per_s,
                1,
                " x",
            )
            if name == "ListComplianceItems" and label == "sqlite":
                goals.at_most(f"{name} p50, 1 conn", label, one.p50_ms, 0.5, " ms")
        if items >= 50 * 1000:  # the store holds at least 1,000 pages of 50
            token = page_token(port, 999)
            page_1 = signed_raw(port, "ListComplianceItems", {"MaxResults": 50})
            page_1000 = signed_raw(
                port, "ListComplianceItems", {"MaxResults": 50, "NextToken": token}
            )
            first = run_wrk(port, [page_1], 1, seconds / 2, 1)
            deep = run_wrk(port, [page_1000], 1, seconds / 2, 1)
            report.add(
                f"{label} {items:,} items: page 1,000 / page 1 (p50)",
                f"{deep.p50_ms / first.p50_ms:10.2f} x  "
                f"({deep.p50_ms:.3f} vs {first.p50_ms:.3f} ms)",
            )
        out["rss"] = rss_mib(proc)
        report.add(f"{label} {items:,} items: server RSS", f"{out['rss']:10.0f} MiB")
    return out


def fixture(seconds: float, report: Report, goals: Goals) -> None:
    """The in-process fixture against moto's, in a process of its own."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.fixture", str(seconds)],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds * 4 + 120,
    ).stdout
    ms = json.loads(out.splitlines()[-1])
    report.add(
        "fixture: mock_compliance() enter+exit",
        f"{ms['mock_compliance']:10.3f} ms   moto's mock_aws() {ms['mock_aws']:.3f} ms",
    )
    ratio = ms["mock_compliance"] / ms["mock_aws"]
    goals.at_most(
        "fixture: mock_compliance() enter+exit, vs mock_aws()", "in-process", ratio, 1, " x"
    )
    pairs = [
        ("put of 10 items, per call", "put_compliance_items", "put_parameter"),
        ("ListComplianceItems (10 items), per call", "list_compliance_items", "get_parameter"),
    ]
    for name, ours, theirs in pairs:
        # The goal compares each mock alone; with both active, moto's handler also sees every
        # compliance call (its cost, reported beside).
        both = f"{ours} together", f"{theirs} together"
        report.add(
            f"fixture: {name}",
            f"{ms[ours]:10.3f} ms   moto's {theirs} {ms[theirs]:.3f} ms; with both mocks "
            f"active {ms[both[0]]:.3f} ms and {ms[both[1]]:.3f} ms "
            f"({ms[both[0]] / ms[both[1]]:.2f} x)",
        )
        goals.at_most(
            f"fixture: {name}, vs moto's {theirs}", "in-process", ms[ours] / ms[theirs], 1, " x"
        )


def page_token(port: int, pages: int) -> str:
    import boto3

    from .load import ACCESS_KEY, REGION, SECRET

    ssm = boto3.client(
        "ssm",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
    )
    token = None
    for _ in range(pages):
        kwargs: dict[str, Any] = {"MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        token = ssm.list_compliance_items(**kwargs)["NextToken"]
    assert token
    return str(token)


@contextmanager
def sqlite_db(path: Path) -> Iterator[str]:
    yield database_url(str(path))


def analyze(db_url: str) -> None:
    """PostgreSQL's ANALYZE of the store's freshly loaded tables, as autovacuum runs it within a
    minute of a load (this machine's PostgreSQL may have autovacuum off); SQLite's planner
    needs none."""
    if not db_url.startswith("postgresql"):
        return
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            analyze_unanalyzed(conn)
    finally:
        engine.dispose()


@contextmanager
def postgres_db(url: str) -> Iterator[str]:
    base = database_url(url)
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def baseline_postgres_large(db_url: str, seconds: float, report: Report) -> float:
    """Raw psycopg: the bench's 10,000-item put as a plain program would write it, in a table of
    complyd's item columns and key (in the same fresh schema): one transaction of a DELETE, a
    COPY of the rows and a COMMIT, replacing the items of 4 resources in turn."""
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    key_columns = ", ".join(f'{c} TEXT COLLATE "C"' for c in ("account", "region", "r", "t", "k"))
    try:
        with engine.connect() as conn:
            db = conn.connection.driver_connection
            assert db is not None
            db.execute(
                f"CREATE TABLE raw_items ({key_columns}, id TEXT, title TEXT, st TEXT, sev TEXT, "
                "details JSON, ms BIGINT, eid TEXT, etype TEXT, size INTEGER, "
                "PRIMARY KEY (account, region, r, t, k))"
            )
            db.commit()
            puts, deadline = 0, time.perf_counter() + seconds
            start = time.perf_counter()
            while time.perf_counter() < deadline:
                key = (
                    "123456789012",
                    "us-east-1",
                    resource_id(20_000_000 + puts % 4),
                    "Custom:Big",
                )
                with db.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM raw_items WHERE account = %s AND region = %s AND r = %s "
                        "AND t = %s",
                        key,
                    )
                    with cursor.copy("COPY raw_items FROM STDIN") as copy:
                        for k in range(10_000):
                            copy.write_row((*key, f"ac{k}", f"c{k}", *ITEM_VALUES))
                db.commit()
                puts += 1
            rate = puts * 10_000 / (time.perf_counter() - start)
            db.execute("DROP TABLE raw_items")
            db.commit()
    finally:
        engine.dispose()
    report.add("baseline: raw psycopg 10,000-item replace (1/commit)", f"{rate:10,.0f} items/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, 200k-item store")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("COMPLYD_BENCH_POSTGRES_URL", ""),
        help="also run on this PostgreSQL database (a fresh schema per run)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="serve with this many worker processes"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=["writes", "reads", "fixture", "replicas"],
        choices=["writes", "reads", "fixture", "replicas"],
        help="replicas runs only with --postgres",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.exit(2, "python -m bench: wrk is not installed (Debian: apt-get install wrk)\n")
    seconds = 4.0 if args.quick else 8.0
    big = 20_000 if args.quick else 100_000
    report, goals = Report(), Goals()
    print(
        f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, complyd with {args.workers} worker(s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        baseline = Baseline(work, seconds, report)
        try:
            baseline.paired("baseline")
            raw = baseline_sqlite(work, seconds, report)
            stores = [("sqlite", lambda name: sqlite_db(work / name))]
            if args.postgres:
                stores.append(("postgres", lambda name: postgres_db(args.postgres)))
            for label, make in stores:
                if "writes" in args.only:
                    with make("writes.db") as url:
                        writes(
                            label, url, work, seconds, report, baseline, raw, goals, args.workers
                        )
                if "reads" in args.only:
                    with make("small.db") as url:
                        small = reads(
                            label, url, work, 100, seconds, report, baseline, None, args.workers
                        )
                    with make("large.db") as url:
                        large = reads(
                            label, url, work, big, seconds, report, baseline, goals, args.workers
                        )
                    ratio = large["ListComplianceSummaries"] / small["ListComplianceSummaries"]
                    report.add(
                        f"{label}: ListComplianceSummaries p50, {big * 10:,} / 1,000 items",
                        f"{ratio:10.2f} x",
                    )
                    rss = large["rss"] / small["rss"]
                    report.add(f"{label}: RSS, {big * 10:,} / 1,000 items", f"{rss:10.2f} x")
                    memory = f"server memory, 1,000 to {big * 10:,} items"
                    goals.at_most(memory, label, rss, 1.3, " x")
            if "fixture" in args.only:
                fixture(seconds, report, goals)
            if args.postgres and "replicas" in args.only:
                with postgres_db(args.postgres) as url:
                    replicas(url, work, seconds, report, complyd)
        finally:
            baseline.close()
        low, high = min(baseline.samples), max(baseline.samples)
        report.add("trivial handler over the run", f"{low:,.0f} to {high:,.0f} req/s")
    print(
        "\n# goals (ratios to the trivial handler, measured beside each figure)\n" + goals.table(),
        flush=True,
    )


if __name__ == "__main__":
    main()
