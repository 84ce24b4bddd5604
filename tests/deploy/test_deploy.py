"""The files in deploy/ checked by the tools that consume them: systemd's own verifier on the
unit, promtool's rule tests on the alerts, and a real Prometheus scraping a real complyd that
evaluates every query of the Grafana dashboard and every alert rule."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from complyd.testing.server import free_port
from tests.api.harness import REPO, Server, launch, make_client, new_tenant
from tests.api.reference import entry, put
from tests.conftest import IN_CI

DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "complyd.service"
ALERTS = DEPLOY / "prometheus" / "complyd-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "complyd-dashboard.json"


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is missing: apt-get install -y {package}"
        if IN_CI:
            pytest.fail(message + " (CI=true: deploy tests must run)")
        pytest.skip(message)
    return found


def test_the_systemd_unit_verifies_clean(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    # The unit names /usr/local/bin/complyd; verify checks that the command exists, so point
    # it at this checkout's complyd and change nothing else.
    complyd = Path(sys.executable).with_name("complyd")
    assert complyd.exists()
    text = UNIT.read_text()
    assert "ExecStart=/usr/local/bin/complyd serve\n" in text
    unit = tmp_path / "complyd.service"
    unit.write_text(text.replace("/usr/local/bin/complyd", str(complyd)))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    # verify exits 0 on unknown keys and unparsable values too, and only warns: any output fails.
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stderr
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text


def test_the_alert_rules_pass_their_promtool_tests() -> None:
    promtool = tool("promtool", "prometheus")
    check = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    done = subprocess.run(
        [promtool, "test", "rules", "complyd-alerts.test.yml"],
        cwd=ALERTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


class Prometheus:
    def __init__(self, directory: Path, target: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = directory / "prometheus.yml"
        shutil.copy(ALERTS, directory / ALERTS.name)
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: [{ALERTS.name}]\n"
            "scrape_configs:\n"
            f"  - job_name: complyd\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        self.log = open(directory / "prometheus.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                tool("prometheus", "prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def query(self, expr: str) -> dict[str, Any]:
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            return dict(get(url))
        except urllib.error.HTTPError as error:  # 400/422 carry the error as JSON
            return dict(json.loads(error.read()))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def scraped(tmp_path: Path) -> Iterator[tuple[Server, Prometheus]]:
    tool("prometheus", "prometheus")
    server = launch(tmp_path / "complyd")
    prometheus = Prometheus(tmp_path, f"127.0.0.1:{server.port}")
    try:
        yield server, prometheus
    finally:
        prometheus.stop()
        server.stop()


# Grafana's variables as "All" selects them, and its rate window at a 1 s scrape interval.
GRAFANA_VALUES = {"$account": ".*", "$region": ".*", "$instance": ".*", "$__rate_interval": "15s"}


def grafana_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in GRAFANA_VALUES.items():
                expr = expr.replace(name, value)
            assert "$" not in expr, expr
            queries.append((panel["title"], expr))
    return queries


def test_prometheus_evaluates_every_dashboard_query_and_alert_on_a_real_complyd(
    scraped: tuple[Server, Prometheus],
) -> None:
    server, prometheus = scraped
    for n, tenant in enumerate((new_tenant(), new_tenant("eu-west-1"))):
        ssm = make_client(server, tenant)
        for k in range(3 + n):
            status = "NON_COMPLIANT" if k == 0 else "COMPLIANT"
            put(ssm, f"i-{n:08x}{k:09x}", "Patch", [entry("KB1", "CRITICAL", status)])
            put(ssm, f"i-{n:08x}{k:09x}", "Custom:Disk", [entry("root", "LOW", "NON_COMPLIANT")])
        with pytest.raises(Exception, match="InvalidResourceId"):
            put(ssm, "not-a-node", "Patch", [entry("KB1")])  # an error code to chart
        ssm.list_compliance_summaries()

    queries = grafana_queries()
    assert len(queries) >= 12
    deadline = time.monotonic() + 60
    pending = dict.fromkeys(queries, "")
    while pending and time.monotonic() < deadline:
        for key in list(pending):
            answer = prometheus.query(key[1]) if prometheus.proc.poll() is None else {}
            assert answer.get("status") != "error", (key, answer)
            if answer.get("data", {}).get("result"):
                del pending[key]
            else:
                pending[key] = json.dumps(answer)
        time.sleep(0.5)
    assert pending == {}, f"queries that returned no data: {pending}"

    # The numbers are complyd's: both tenants, 7 resources, 2 non-compliant in Patch, 7 in all.
    resources = prometheus.query(
        'sum(complyd_resources{compliance_type="FleetTotal", account_id=~".*", region=~".*"})'
    )
    assert float(resources["data"]["result"][0]["value"][1]) == 7
    by_type = prometheus.query(grafana_expr("Non-compliant resources by compliance type"))
    counts = {
        r["metric"]["compliance_type"]: float(r["value"][1]) for r in by_type["data"]["result"]
    }
    assert counts == {"Patch": 2, "Custom:Disk": 7}

    # The variables' label_values() queries find the tenants.
    accounts = get(
        prometheus.url
        + "/api/v1/label/account_id/values?"
        + urllib.parse.urlencode({"match[]": "complyd_resources"})
    )
    assert len(accounts["data"]) == 2

    # Every alert rule evaluates without error against the real series.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        groups = get(prometheus.url + "/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(
            r.get("lastEvaluation", "").startswith("2")
            and not r["lastEvaluation"].startswith("0001")
            for r in rules
        ):
            break
        time.sleep(0.5)
    assert len(rules) == len(re.findall(r"^\s+- alert: ", ALERTS.read_text(), re.M))
    assert [r["name"] for r in rules if r["health"] != "ok"] == [], rules
    # Critical non-compliant resources are there; the alert is pending (it waits 15 minutes).
    firing = {r["name"]: r["state"] for r in rules}
    assert firing["ComplydCriticalNonCompliant"] == "pending"
    assert firing["ComplydDown"] == "inactive"


def grafana_expr(title: str) -> str:
    [expr] = [e for t, e in grafana_queries() if t == title]
    return expr
