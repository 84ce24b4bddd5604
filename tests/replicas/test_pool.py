"""A replica's PostgreSQL connections: `?pool_size=N` in --db bounds them (N, plus N under load)."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import sqlalchemy as sa

from complyd.config import database_url
from tests.api.harness import launch, make_client, new_instance_id, new_tenant, server_env
from tests.api.reference import entry, list_items, put


def test_pool_size_in_the_url_bounds_a_replicas_connections(shared_db: str, tmp_path: Path) -> None:
    name = f"complyd_{uuid.uuid4().hex[:10]}"
    srv = launch(tmp_path / "srv", db=f"{shared_db}&pool_size=2&application_name={name}")
    tenant = new_tenant()
    errors: list[BaseException] = []

    def work() -> None:
        ssm = make_client(srv, tenant)
        try:
            for _ in range(10):
                rid = new_instance_id()
                put(ssm, rid, "Custom:Pool", [entry("a")])
                assert len(list_items(ssm, rid)) == 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(12)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admin = sa.create_engine(database_url(shared_db))
        with admin.connect() as conn:
            opened = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": name},
            ).scalar_one()
        admin.dispose()
    finally:
        srv.stop()
    assert [str(e)[:300] for e in errors] == []
    assert 1 <= opened <= 4


def test_a_bad_pool_size_is_refused(shared_db: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "complyd", "migrate", "--db", f"{shared_db}&pool_size=0"],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode != 0
    assert "pool_size must be a positive integer, not '0'" in result.stderr
