"""Run every benchmark: `python -m bench [--quick] [--postgres URL] [--only NAME ...]`.

Each figure is printed beside a baseline measured in the same run (a trivial handler on the
same server stack; raw SQLite writes), as a ratio, because shared machines drift.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from complyd.config import database_url
from complyd.storage.sql import SqlStore

from .load import LoadResult, credentials_toml, run_wrk, signed_raw
from .preload import preload, resource_id
from .replicas import replicas

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(cmd: list[str], port: int, logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server (from the repository root, so `bench` and `src` import) until healthy."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    log = logs / f"server-{port}.log"
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb")
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()[-3000:]) from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def complyd(db_url: str, work: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    creds = work / "credentials.toml"
    creds.write_text(credentials_toml())
    cmd = [
        sys.executable,
        "-m",
        "complyd",
        "serve",
        "--port",
        str(port),
        "--db",
        db_url,
        "--credentials",
        str(creds),
        "--log-level",
        "warning",
    ]
    with process(cmd, port, work) as proc:
        yield port, proc


def rss_mib(proc: subprocess.Popen[bytes]) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def put_body(n: int, items: int, small: bool = False) -> dict[str, Any]:
    if small:  # 10,000 items of ~55 bytes: well inside the 1 MiB limit of one put
        return {
            "ResourceId": resource_id(20_000_000 + n),
            "ResourceType": "ManagedInstance",
            "ComplianceType": "Custom:Big",
            "ExecutionSummary": {"ExecutionTime": 1_700_000_000},
            "Items": [
                {"Id": f"c{k}", "Severity": "HIGH", "Status": "COMPLIANT"} for k in range(items)
            ],
        }
    return {
        "ResourceId": resource_id(10_000_000 + n),
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:Bench",
        "ExecutionSummary": {"ExecutionTime": 1_700_000_000 + n % 7},
        "Items": [
            {
                "Id": f"c{k}",
                "Title": f"check {k}",
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


def baseline_http(work: Path, seconds: float, report: Report) -> LoadResult:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.trivial_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with process(cmd, port, work):
        request = signed_raw(port, "PutComplianceItems", put_body(0, 10))
        result = run_wrk(port, [request], 16, seconds)
    report.add("baseline: trivial POST handler, 16 conns", result.line())
    return result


def baseline_sqlite(work: Path, seconds: float, report: Report) -> float:
    """Raw sqlite3: 10-row replace-sets, 16 per committed transaction, WAL + synchronous=FULL."""
    db = sqlite3.connect(work / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE items (r TEXT, t TEXT, k TEXT, title TEXT, sev TEXT, st TEXT, "
        "details TEXT, PRIMARY KEY (r, t, k))"
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


def writes(
    label: str,
    db_url: str,
    work: Path,
    seconds: float,
    report: Report,
    http: LoadResult,
    raw_sets: float,
) -> None:
    with complyd(db_url, work) as (port, _proc):
        puts = [signed_raw(port, "PutComplianceItems", put_body(n, 10)) for n in range(2000)]
        r = run_wrk(port, puts, 16, seconds)
        report.add(f"{label}: PutComplianceItems 10 items, 16 conns", r.line())
        report.add(
            f"{label}:   vs trivial handler / vs raw SQLite sets",
            f"{r.requests_per_s / http.requests_per_s:10.2f} x   "
            f"{r.requests_per_s / raw_sets:6.2f} x",
        )
        big = [
            signed_raw(port, "PutComplianceItems", put_body(n, 10_000, small=True))
            for n in range(4)
        ]
        r = run_wrk(port, big, 1, seconds, threads=1)
        report.add(
            f"{label}: PutComplianceItems 10,000 items, 1 conn",
            f"{r.requests_per_s * 10_000:10,.0f} items/s  p50 {r.p50_ms:7.1f} ms  "
            f"({r.requests} puts, {r.errors} errors)",
        )


def reads(
    label: str,
    db_url: str,
    work: Path,
    resources: int,
    seconds: float,
    report: Report,
    http: LoadResult,
) -> dict[str, float]:
    store = SqlStore(db_url)
    t0 = time.perf_counter()
    items = preload(store, resources, 10)
    store.close()
    report.add(f"{label}: preloaded", f"{items:10,} items in {time.perf_counter() - t0:.0f} s")
    out: dict[str, float] = {}
    with complyd(db_url, work) as (port, proc):
        calls = {
            "ListComplianceItems": {"MaxResults": 50},
            "ListResourceComplianceSummaries": {"MaxResults": 50},
            "ListComplianceSummaries": {},
        }
        for op, body in calls.items():
            one = run_wrk(port, [signed_raw(port, op, body)], 1, seconds / 2, threads=1)
            many = run_wrk(port, [signed_raw(port, op, body)], 16, seconds / 2)
            out[op] = one.p50_ms
            report.add(f"{label} {items:,} items: {op} p50, 1 conn", f"{one.p50_ms:10.3f} ms")
            report.add(f"{label} {items:,} items: {op} 16 conns", many.line())
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, 100k-item store")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("COMPLYD_BENCH_POSTGRES_URL", ""),
        help="also run on this PostgreSQL database (a fresh schema per run)",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=["writes", "reads", "replicas"],
        choices=["writes", "reads", "replicas"],
        help="replicas runs only with --postgres",
    )
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 8.0
    big = 10_000 if args.quick else 100_000
    report = Report()
    print(
        f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        http = baseline_http(work, seconds, report)
        raw = baseline_sqlite(work, seconds, report)
        stores = [("sqlite", lambda name: sqlite_db(work / name))]
        if args.postgres:
            stores.append(("postgres", lambda name: postgres_db(args.postgres)))
        for label, make in stores:
            if "writes" in args.only:
                with make("writes.db") as url:
                    writes(label, url, work, seconds, report, http, raw)
            if "reads" in args.only:
                with make("small.db") as url:
                    small = reads(label, url, work, 100, seconds, report, http)
                with make("large.db") as url:
                    large = reads(label, url, work, big, seconds, report, http)
                ratio = large["ListComplianceSummaries"] / small["ListComplianceSummaries"]
                report.add(
                    f"{label}: ListComplianceSummaries p50, {big * 10:,} / 1,000 items",
                    f"{ratio:10.2f} x",
                )
                report.add(
                    f"{label}: RSS, {big * 10:,} / 1,000 items",
                    f"{large['rss'] / small['rss']:10.2f} x",
                )
        if args.postgres and "replicas" in args.only:
            with postgres_db(args.postgres) as url:
                replicas(url, work, seconds, report, complyd)


if __name__ == "__main__":
    main()
