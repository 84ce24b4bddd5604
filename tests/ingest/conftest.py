"""Fixtures for `complyd ingest`: real scanner runs on this machine, and servers to send to.

The reports come from the real tools: OpenSCAP's SSG scan of this machine (seen as Debian 11
through an overlay of /, since Debian's SSG content covers Debian 10 and 11 only), oscap
evaluating a small benchmark of the tests' own, `lynis audit system`, and bandit's SARIF for a
sample project. Without a tool these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.harness import Server, Tenant, launch, new_tenant, server_env
from tests.conftest import IN_CI

DATA = Path(__file__).parent / "data"
SSG_CONTENT = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")
SSG_PROFILE = "xccdf_org.ssgproject.content_profile_standard"
SAMPLE_PROFILE = "xccdf_org.example_profile_base"


def require(what: str, ok: bool, how: str) -> None:
    if ok:
        return
    message = f"{what} is missing ({how})"
    if IN_CI:
        pytest.fail(message + "; CI=true: the ingest tests must run with the real tools")
    pytest.skip(message)


def require_tool(name: str, package: str) -> str:
    found = shutil.which(name)
    require(name, found is not None, f"apt-get install {package}")
    assert found is not None
    return found


# --- running complyd ingest ---------------------------------------------------------------


def ingest_env(tenant: Tenant | None = None, **extra: str) -> dict[str, str]:
    """The child's environment: the tenant's credentials and region, and nothing of the
    caller's AWS configuration. The metadata service is switched off, so a test that
    leaves credentials out never reaches for a network address."""
    env = {k: v for k, v in server_env().items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    if tenant is not None:
        env["AWS_ACCESS_KEY_ID"] = tenant.account
        env["AWS_SECRET_ACCESS_KEY"] = "local"
        env["AWS_DEFAULT_REGION"] = tenant.region
    env.update(extra)
    return env


def ingest(
    *args: str | Path,
    tenant: Tenant | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    code: int = 0,
) -> subprocess.CompletedProcess[str]:
    """`complyd ingest ARGS`, asserting its exit status."""
    cmd = [sys.executable, "-m", "complyd", "ingest", *map(str, args)]
    done = subprocess.run(
        cmd,
        env=env or ingest_env(tenant),
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == code, (cmd, done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# --- servers ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server that takes any resource id (reports name nodes by host name); each test
    writes as a tenant of its own."""
    srv = launch(tmp_path_factory.mktemp("ingest-any-id"), ("--any-resource-id",))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with complyd's default: managed-node ids only."""
    srv = launch(tmp_path_factory.mktemp("ingest-strict"))
    yield srv
    srv.stop()


@pytest.fixture
def tenant() -> Tenant:
    return new_tenant()


# --- real scans ---------------------------------------------------------------------------


def run_tool(
    cmd: list[str], *, codes: tuple[int, ...] = (0,), timeout: float = 300, **kwargs: Any
) -> None:
    """Runs a scanner; `codes` are its exit statuses that mean it ran (some exit 2 on findings)."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode in codes, (
        cmd,
        done.returncode,
        done.stdout[-3000:],
        done.stderr[-3000:],
    )


@dataclass(frozen=True)
class Scan:
    results: Path  # oscap --results (XCCDF 1.2 results inside the benchmark)
    arf: Path  # oscap --results-arf, written by the same evaluation


# An overlay of / whose os-release and debian_version say 11, in a mount namespace of its
# own (gone when the shell exits); oscap's probes read the system through OSCAP_PROBE_ROOT.
DEBIAN_11_SCAN = textwrap.dedent(
    """\
    set -eu
    mkdir -p "$WORK/upper/etc" "$WORK/work" "$WORK/root"
    echo 11.11 > "$WORK/upper/etc/debian_version"
    sed -e 's/^VERSION_ID=.*/VERSION_ID="11"/' -e 's/^VERSION=.*/VERSION="11 (bullseye)"/' \\
        -e 's/^VERSION_CODENAME=.*/VERSION_CODENAME=bullseye/' \\
        -e 's/^PRETTY_NAME=.*/PRETTY_NAME="Debian GNU\\/Linux 11 (bullseye)"/' \\
        /etc/os-release > "$WORK/upper/etc/os-release"
    mount -t overlay overlay \\
        -o "lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/work" "$WORK/root"
    status=0
    OSCAP_PROBE_ROOT="$WORK/root" oscap xccdf eval --profile "$PROFILE" \\
        --results "$RESULTS" --results-arf "$ARF" "$CONTENT" > "$WORK/oscap.out" || status=$?
    # oscap exits 2 when some rule failed, which is what a real scan finds.
    [ "$status" -eq 0 ] || [ "$status" -eq 2 ]
    """
)


@pytest.fixture(scope="session")
def ssg_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """OpenSCAP's standard profile for Debian 11, evaluated on this machine."""
    require_tool("oscap", "openscap-scanner")
    require("Debian's SSG content", SSG_CONTENT.exists(), "apt-get install ssg-debian")
    unshare = require_tool("unshare", "util-linux")
    require("root (for the overlay mount)", os.geteuid() == 0, "run the tests as root")
    work = tmp_path_factory.mktemp("ssg-scan")
    scan = Scan(results=work / "results.xml", arf=work / "arf.xml")
    env = {
        **os.environ,
        "WORK": str(work),
        "PROFILE": SSG_PROFILE,
        "CONTENT": str(SSG_CONTENT),
        "RESULTS": str(scan.results),
        "ARF": str(scan.arf),
    }
    run_tool([unshare, "--mount", "--propagation", "private", "sh", "-c", DEBIAN_11_SCAN], env=env)
    return scan


@pytest.fixture(scope="session")
def sample_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' own benchmark evaluated (and remediated) by the real oscap."""
    oscap = require_tool("oscap", "openscap-scanner")
    work = tmp_path_factory.mktemp("sample-scan")
    settings = work / "settings.conf"
    settings.write_text("enabled=1\nfeature=on\n")
    for name in ("sample-benchmark.xccdf.xml", "sample-checks.oval.xml"):
        text = (DATA / name).read_text().replace("@SETTINGS@", str(settings))
        (work / name).write_text(text)
    results = work / "results.xml"
    run_tool(
        [oscap, "xccdf", "eval", "--profile", SAMPLE_PROFILE, "--remediate"]
        + ["--results", str(results), "sample-benchmark.xccdf.xml"],
        cwd=work,
        codes=(2,),  # some rule failed, as the benchmark means them to
    )
    return results


@pytest.fixture(scope="session")
def lynis_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lynis audit system --quick` of this machine (about a minute)."""
    lynis = require_tool("lynis", "lynis")
    work = tmp_path_factory.mktemp("lynis")
    report = work / "lynis-report.dat"
    run_tool(
        [lynis, "audit", "system", "--quick", "--no-colors", "--report-file", str(report)]
        + ["--logfile", str(work / "lynis.log")],
        cwd=work,
        timeout=900,
    )
    return report


SAMPLE_PROJECT = {
    "service.py": """\
        import hashlib
        import pickle
        import subprocess

        API_TOKEN = "s3cr3t-token"


        def run(command):
            return subprocess.call(command, shell=True)


        def load(blob):
            assert blob, "empty"
            return pickle.loads(blob)


        def fingerprint(data):
            return hashlib.md5(data).hexdigest()
        """,
    "db/queries.py": """\
        def by_name(cursor, name):
            return cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)


        def by_id(cursor, user_id):
            return cursor.execute("SELECT * FROM users WHERE id = %d" % user_id)
        """,
}


@pytest.fixture(scope="session")
def bandit_sarif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bandit's SARIF for a small project with known-bad code."""
    work = tmp_path_factory.mktemp("bandit")
    project = work / "project"
    for name, source in SAMPLE_PROJECT.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    sarif = work / "bandit.sarif"
    found = importlib.util.find_spec("bandit") and importlib.util.find_spec("sarif_om")
    require("bandit with its SARIF formatter", bool(found), "pip install 'bandit[sarif]'")
    run_tool(
        [sys.executable, "-m", "bandit", "-r", ".", "-f", "sarif", "-o", str(sarif)],
        cwd=project,
        codes=(1,),  # issues found
    )
    return sarif
