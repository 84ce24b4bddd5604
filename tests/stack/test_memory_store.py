"""`complyd serve --store memory`: a throwaway store that writes nothing and keeps nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from complyd.testing import run_server
from tests.api.reference import entry, list_items, list_resource_summaries, put

from .conftest import serve_refused, ssm_client

NODE = "i-0123456789abcdef0"


def test_nothing_is_written_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, data, work = tmp_path / "home", tmp_path / "data", tmp_path / "work"
    for directory in (home, data, work):
        directory.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    with run_server(directory=work, memory=True) as server:
        ssm = ssm_client(server.url)
        put(ssm, NODE, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
        assert [i["Id"] for i in list_items(ssm, NODE)] == ["KB1"]
        assert server.db is None
        banner = server.stderr_path.read_text()
    assert "in-memory store, nothing kept" in banner
    # The server's working directory holds only the log run_server keeps of its stderr.
    assert [p.name for p in work.iterdir()] == [server.stderr_path.name]
    assert list(home.iterdir()) == [] and list(data.iterdir()) == []


def test_a_restart_starts_empty() -> None:
    with run_server(memory=True) as first:
        put(ssm_client(first.url), NODE, "Patch", [entry("KB1")])
        assert len(list_items(ssm_client(first.url), NODE)) == 1
    with run_server(memory=True) as second:
        assert list_items(ssm_client(second.url), NODE) == []


def test_concurrent_writers_and_readers_share_one_store() -> None:
    errors: list[BaseException] = []
    nodes = [f"i-{n:017x}" for n in range(1, 9)]
    with run_server(memory=True) as server:

        def work(node: str) -> None:
            try:
                ssm = ssm_client(server.url)
                for round_ in range(15):
                    status = "NON_COMPLIANT" if round_ % 2 else "COMPLIANT"
                    put(ssm, node, "Patch", [entry("KB1", "HIGH", status)])
                    list_resource_summaries(ssm)
                    ssm.list_compliance_summaries()
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(node,)) for node in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        rows = list_resource_summaries(ssm_client(server.url))
        [fleet_total, _patch] = ssm_client(server.url).list_compliance_summaries()[
            "ComplianceSummaryItems"
        ]
    assert errors == []
    # Each node's last put (round 14) was compliant.
    assert [(r["ResourceId"], r["Status"]) for r in rows] == [(n, "COMPLIANT") for n in nodes]
    assert fleet_total["CompliantSummary"]["CompliantCount"] == len(nodes)
    assert fleet_total["NonCompliantSummary"]["NonCompliantCount"] == 0


def test_memory_and_a_database_are_one_choice(tmp_path: Path) -> None:
    stderr = serve_refused(tmp_path, "--db", "x.db")
    assert "--store memory keeps nothing on disk: drop --db" in stderr
    assert list(tmp_path.iterdir()) == []
