"""The DNS handoff (T16) on the sandbox: each management cluster's ExternalDNS (played by its twin,
with its own owner id) registers the HC's hostnames from the Routes and LoadBalancer Services of the
HCP namespace. migrate deletes the source's, waits until its records are gone, and only then
creates the HC on the destination, whose ExternalDNS then holds them. A run killed after the
deletion is finished by the next one; the teardown guard refuses while the source owns them."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.marks import SOURCE_STATE
from tests.e2e.faults import Cut, found, run_and_cut
from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, clear_destination, hcm
from tests.e2e.test_teardown import Migrated, assert_refused, migrated  # noqa: F401 - the fixture
from tests.sandbox.harness import Sandbox
from tests.sandbox.seed import SERVICE_DOMAIN, dns_owner
from tests.sandbox.twin.cloud import Cloud

pytestmark = pytest.mark.e2e
HOSTS = [f"{svc}-{HC_NAME}.{SERVICE_DOMAIN}" for svc in ("apiserver", "ignition", "konnectivity", "oauthserver")]


def cloud(sb: Sandbox) -> Cloud:
    return Cloud(sb.env["SANDBOX_AWS_ENDPOINT"])


def owners(sb: Sandbox) -> dict[str, str]:
    return {h: o for h, o in cloud(sb).owners(SERVICE_DOMAIN).items() if h in HOSTS}


def wait_owned(sb: Sandbox, cluster: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while owners(sb) != dict.fromkeys(HOSTS, dns_owner(cluster)):
        assert time.monotonic() < deadline, f"records not {cluster}'s: {owners(sb)}"
        time.sleep(0.5)


def zone_flags(sb: Sandbox) -> list[str]:
    zone = cloud(sb).zone_id(SERVICE_DOMAIN, create=False)
    assert zone, "the cloud twin has no zone for the service hostnames"
    return ["--hosted-zone-id", zone, "--cloud-endpoint-url", sb.env["SANDBOX_AWS_ENDPOINT"]]


def dns_events(sb: Sandbox) -> list[dict[str, Any]]:
    path = sb.cfg.logs / "dns.jsonl"
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["host"] in HOSTS]


def migrate_args(sb: Sandbox, tmp: Path) -> list[str]:
    return ["migrate", "-o", "json", "--hc", HC_NAME, "-n", HC_NS, "--prefix", "handoff", "--context", "source",
            "--to-context", "destination", "--dir", str(tmp), "--timeout", "3m", "--handoff-timeout", "90s",
            *zone_flags(sb)]  # fmt: skip


def test_a_killed_handoff_is_finished_by_the_rerun_and_the_records_move_before_the_hc(
    sandbox: Sandbox, destroys_source: None, tmp_path: Path
) -> None:
    clear_destination(sandbox)
    started = time.time()
    wait_owned(sandbox, "source")
    src = sandbox.source.kubectl()
    carriers = {"route/ignition-server", "route/konnectivity-server", "route/oauth", "service/kube-apiserver"}
    killed = run_and_cut(sandbox, migrate_args(sandbox, tmp_path / "a"),
                         Cut("wait for the source's records to go", sig=signal.SIGKILL))  # fmt: skip
    assert killed.fired and killed.returncode == -signal.SIGKILL, killed.stderr
    # Killed half-way: the Routes and the Service are gone from the source, and recorded on its HC.
    hc = src.get(HC_KIND, HC_NAME, "-n", HC_NS)
    state = json.loads(hc["metadata"]["annotations"][SOURCE_STATE])
    recorded = {f"{o['kind'].lower()}/{o['metadata']['name']}" for o in state["removed"]}
    assert recorded == carriers and state["held"] and hc["spec"]["pausedUntil"] == "true"
    left = src.run("get", "routes,services", "-n", HCP_NS, "-o", "name")
    assert not carriers & {f"{n.split('/')[0].split('.')[0]}/{n.split('/')[1]}" for n in left.split()}, left
    assert found(sandbox, "destination", HC_KIND, HC_NAME, "-n", HC_NS) is None

    rerun = hcm(sandbox, *migrate_args(sandbox, tmp_path / "b"))
    assert rerun.returncode == 0, rerun.stderr
    out = json.loads(rerun.stdout)
    assert out["handoff"]["removed"] and "removed by an earlier run" in rerun.stderr
    # The source's ExternalDNS deleted every record before the destination's HC was created ...
    created = datetime.fromisoformat(
        sandbox.destination.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)["metadata"]["creationTimestamp"]
    ).timestamp()
    events = [e for e in dns_events(sandbox) if e["time"] >= started]  # earlier tests restored here too
    deleted = {e["host"]: e["time"] for e in events if e["action"] == "delete" and e["owner"] == dns_owner("source")}
    assert set(deleted) == set(HOSTS), events
    assert max(int(t) for t in deleted.values()) <= created, (deleted, created)  # creationTimestamp has seconds
    # ... and the destination's ExternalDNS created them after, and holds them at the end.
    dest_created = [e["time"] for e in events if e["action"] == "create" and e["owner"] == dns_owner("destination")]
    assert len(dest_created) == len(HOSTS) and min(dest_created) >= max(deleted.values())
    assert owners(sandbox) == dict.fromkeys(HOSTS, dns_owner("destination"))
    assert out["teardown"]["guard"] == "passed"
    assert found(sandbox, "source", HC_KIND, HC_NAME, "-n", HC_NS) is None


def test_teardown_is_refused_while_the_source_still_owns_the_records(migrated: Migrated) -> None:  # noqa: F811
    """Restored without the handoff: the destination runs the HC, but its ExternalDNS cannot take
    the records the source's still owns, so the workers would follow the hostnames to the source."""
    sb = migrated.sb
    wait_owned(sb, "source")
    flags = zone_flags(sb)
    assert_refused(migrated, "not yet owned by the destination's ExternalDNS", *flags)
    refused = [e for e in dns_events(sb) if e["action"] == "refused" and e["owner"] == dns_owner("destination")]
    assert refused, "the destination's ExternalDNS never tried to take the records"
    assert owners(sb) == dict.fromkeys(HOSTS, dns_owner("source"))
