"""Malformed, truncated, huge and hostile reports: one clear line each, no traceback, and
nothing sent (the good reports given with them included)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.api.harness import Server, Tenant, make_client, new_instance_id
from tests.api.reference import list_resource_summaries

from .conftest import ingest

XCCDF_HEAD = '<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_x_benchmark_b">'
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + f"]>\n{XCCDF_HEAD}<TestResult id='t'><target>&lol9;</target></TestResult></Benchmark>\n"
)


class Requests(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        Requests.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY % all \"<!ENTITY leak 'x'>\"> %all;")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def dtd_host() -> Iterator[str]:
    """A loopback web server that records whether anything came to fetch its DTD."""
    Requests.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Requests)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def nothing_stored(server: Server, tenant: Tenant) -> bool:
    return list_resource_summaries(make_client(server, tenant)) == []


def test_entity_tricks_are_refused_and_nothing_is_sent(
    sample_scan: Path, tmp_path: Path, dtd_host: str, open_server: Server, tenant: Tenant
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-leak-4711")
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BILLION_LAUGHS)
    external = tmp_path / "external.xml"
    external.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE b [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        f"{XCCDF_HEAD}<TestResult id='t'><target>&s;</target></TestResult></Benchmark>\n"
    )
    remote = tmp_path / "remote-dtd.xml"
    remote.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE b SYSTEM "{dtd_host}/evil.dtd">\n'
        f"{XCCDF_HEAD}<TestResult id='t'><target>&leak;</target></TestResult></Benchmark>\n"
    )
    done = ingest(
        "--format", "xccdf", sample_scan, bomb, external, remote,
        "--endpoint-url", open_server.url, "--any-resource-id", tenant=tenant, code=1,
    )  # fmt: skip
    refused = "refused: the XML has a document type declaration (<!DOCTYPE>)"
    lines = done.stderr.splitlines()
    for path in (bomb, external, remote):
        assert sum(line.startswith(f"{path}: {refused}") for line in lines) == 1
    assert lines[-1] == "Error: nothing was sent: 3 problem(s) in the reports"
    assert "do-not-leak-4711" not in done.stdout + done.stderr
    assert Requests.seen == []
    assert nothing_stored(open_server, tenant)


def test_damaged_xml(sample_scan: Path, tmp_path: Path) -> None:
    data = sample_scan.read_bytes()
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[: len(data) // 2])
    malformed = tmp_path / "malformed.xml"
    malformed.write_text(f"{XCCDF_HEAD}<TestResult id='t'></Benchmark>")
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    oval = tmp_path / "oval.xml"
    oval.write_text(
        '<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"/>'
    )
    benchmark = tmp_path / "benchmark-only.xml"
    benchmark.write_text(f"{XCCDF_HEAD}<title>no results</title></Benchmark>")
    binary = tmp_path / "binary.xml"
    binary.write_bytes(bytes(range(256)) * 4)
    files = [truncated, malformed, empty, oval, benchmark, binary]
    done = ingest("--format", "xccdf", *files, "--resource-id", new_instance_id(), "--dry-run",
                  code=1)  # fmt: skip
    said = {path: line for line in done.stderr.splitlines() for path in files
            if line.startswith(f"{path}: ")}  # fmt: skip
    assert said[truncated].endswith("; the file ends early (truncated?)")
    assert "not well-formed XML: mismatched tag: line 1" in said[malformed]
    assert "not well-formed XML: no element found" in said[empty]
    assert (
        "not XCCDF results or an ARF report (its root element is <oval_definitions>)" in said[oval]
    )
    assert "holds no TestResult: it is a benchmark, not the results of a scan" in said[benchmark]
    assert "not well-formed XML" in said[binary]
    assert done.stdout == ""


def test_damaged_json(
    bandit_sarif: Path, tmp_path: Path, open_server: Server, tenant: Tenant
) -> None:
    data = bandit_sarif.read_bytes()
    truncated = tmp_path / "truncated.sarif"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    nested = tmp_path / "nested.sarif"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    listed = tmp_path / "list.sarif"
    listed.write_text(json.dumps([{"version": "2.1.0"}]))
    garbage = tmp_path / "garbage.sarif"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    files = [truncated, nested, listed, garbage]
    done = ingest(
        "--format", "sarif", bandit_sarif, *files, "--endpoint-url", open_server.url,
        "--resource-id", new_instance_id(), tenant=tenant, code=1,
    )  # fmt: skip
    said = {path: line for line in done.stderr.splitlines() for path in files
            if line.startswith(f"{path}: ")}  # fmt: skip
    assert said[truncated].startswith(f"{truncated}: not valid JSON: ")
    assert said[truncated].endswith("; the file ends early (truncated?)")
    assert said[nested].startswith(f"{nested}: not valid JSON: ")
    assert said[listed] == f"{listed}: is a JSON list, not a SARIF log"
    assert said[garbage].startswith(f"{garbage}: not valid JSON: ")
    assert nothing_stored(open_server, tenant)


def test_huge_reports_are_refused_as_they_are_read(tmp_path: Path) -> None:
    big = tmp_path / "big.sarif"
    big.write_text(json.dumps({"version": "2.1.0", "runs": [], "padding": "x" * 5000}))
    args = ("--format", "sarif", "--resource-id", new_instance_id(), "--dry-run")
    done = ingest(*args, big, "--max-size", "4096", code=1)
    assert f"{big}: larger than 4 KiB, the most ingest reads (--max-size)" in done.stderr
    done = ingest(*args, "-", "--max-size", "4096", stdin=big.read_bytes(), code=1)
    assert "<stdin>: larger than 4 KiB" in done.stderr
    # Within the limit the same report is read (and found to hold no runs).
    done = ingest(*args, big, "--max-size", "8192", code=1)
    assert f"{big}: has no runs" in done.stderr
