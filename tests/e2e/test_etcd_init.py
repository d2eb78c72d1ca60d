"""A restore URL that cannot restore etcd, against the HyperShift twin: HyperShift sets no condition
for it (T11), the etcd pod's `etcd-init` crash-loops with the reason in its log. restore ends within
a minute and a half with that log line (exit 1), not after its --timeout with 'not reported yet'."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_hcmigrate.core.marks import BACKUP_ID, SOURCE_STATE
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    hcm_popen,
    operator_stopped,
    put_back,
    s3,
    source_state,
)
from tests.e2e.test_restore import assert_nothing_leaks, backup, delete_restored, restore
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

# restore's promise: the crash loop is reported within a minute of the first failed fetch; the kubelet
# (the twin) needs a few seconds to get there, the restore's own preflight a few more.
REPORTED_WITHIN = 90.0
CRASH_LOOP = f"error: etcd-init in pod {HCP_NS}/etcd-0 on context 'destination' is crash-looping"


@pytest.fixture(autouse=True)
def destination_emptied(sandbox: Sandbox) -> Iterator[None]:
    delete_restored(sandbox)
    yield
    delete_restored(sandbox)  # the HC's URL is immutable: what this module restores is never any good


def reported(sb: Sandbox, out: str, err: str, bundle: str, took: float, why: str) -> None:
    """Exit 1 (objects were created), one error line naming the pod and its last log line, in time."""
    error = next(line for line in err.splitlines() if line.startswith("error: "))
    assert error.startswith(CRASH_LOOP) and why in error, err
    assert "take the destination's copy of the HC down and run restore (or migrate) again" in error
    result = json.loads(out)
    assert result["outcome"] == "FAILED_NEEDS_ATTENTION" and result["error"] == error.removeprefix("error: ")
    assert took < REPORTED_WITHIN, f"reported after {took:.0f}s"
    assert_nothing_leaks(sb, Path(bundle), out, err)
    print(f"crash loop reported {took:.1f}s after the destination's operator ran")


def test_a_url_that_expired_before_etcd_init_fetched_it(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The destination's operator hangs until the URL expired (the shortest lifetime --no-wait takes);
    when it comes back, etcd-init gets S3's AccessDenied, and the restore waiting for it says so."""
    res = backup(sandbox, tmp_path_factory, "rst")
    with operator_stopped(sandbox, "destination"):
        proc, _ = restore(sandbox, {}, "--prefix", "rst", "--no-wait", "--url-expiry", "60s")
        assert proc.returncode == 0, proc.stderr
        hc = sandbox.destination.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
        wait_until_expired(hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"][0], sandbox)
    proc, took = restore(sandbox, {}, "--prefix", "rst", "--timeout", "3m")
    assert proc.returncode == 1, proc.stderr
    why = "last log line: <Code>AccessDenied</Code><Message>Request has expired</Message>. "
    reported(sandbox, proc.stdout, proc.stderr, res["bundle_dir"], took, why)
    assert "the snapshot URL expired before etcd-init fetched it" in proc.stderr


def test_a_snapshot_replaced_after_the_url_was_set(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Preflight checked the snapshot; then the object is overwritten with garbage before etcd-init
    fetches it (the operator is slow): etcdutl refuses it and the restore names the failure."""
    res = backup(sandbox, tmp_path_factory, "garbage", cached=False)
    with operator_stopped(sandbox, "destination"):
        proc = hcm_popen(sandbox, "-o", "json", "restore", "--hc", HC_NAME, "--prefix", "garbage",
                         "--to-context", "destination", "--timeout", "3m")  # fmt: skip
        hc_there(sandbox, proc)
        s3(sandbox).put_object(Bucket=sandbox.env["HCMIGRATE_BUCKET"], Key=res["snapshot_key"], Body=b"\0" * 4096)
        resumed = time.monotonic()
    out, err = proc.communicate(timeout=600)
    took = time.monotonic() - resumed
    assert proc.returncode == 1, err
    reported(sandbox, out, err, res["bundle_dir"], took, "last log line: ")
    assert any("create HostedCluster" in c for c in json.loads(out)["changed"]), out
    assert "check the backup with `verify --deep`" in err


def test_in_a_migrate_the_source_stays_held(sandbox: Sandbox, tmp_path: Path) -> None:
    """The same replaced snapshot under migrate: the destination has the HC, so the source stays
    paused and held for the migration, exit 1, and the error says why the restore cannot finish."""
    before = source_state(sandbox)
    try:
        with operator_stopped(sandbox, "destination"):
            proc = hcm_popen(sandbox, "migrate", "-o", "json", "--hc", HC_NAME, "-n", HC_NS, "--prefix", "garbage-m",
                             "--context", "source", "--to-context", "destination", "--dir", str(tmp_path / "b"),
                             "--timeout", "3m")  # fmt: skip
            hc = hc_there(sandbox, proc, timeout=300)
            key = f"garbage-m/{HC_NS}/{HC_NAME}/{hc['metadata']['annotations'][BACKUP_ID]}/etcd-snapshot.db"
            s3(sandbox).put_object(Bucket=sandbox.env["HCMIGRATE_BUCKET"], Key=key, Body=b"\0" * 4096)
            resumed = time.monotonic()
        out, err = proc.communicate(timeout=600)
        took = time.monotonic() - resumed
        assert proc.returncode == 1, err
        error = json.loads(out)["error"]
        assert f"etcd-init in pod {HCP_NS}/etcd-0 on context 'destination' is crash-looping" in error
        assert "the source stays paused" in error and took < REPORTED_WITHIN, (took, error)
        print(f"migrate: crash loop reported {took:.1f}s after the destination's operator ran")
        after = source_state(sandbox)
        assert after["hc_paused"] == "true" and after["replicas"]["kube-apiserver"] == 0
        assert "held" in json.loads(after["hc_annotations"][SOURCE_STATE])
    finally:
        delete_restored(sandbox)
        put_back(sandbox, before)


def wait_until_expired(url: str, sb: Sandbox, timeout: float = 120) -> None:
    """Until S3 answers the URL as etcd-init's curl would get it: `Request has expired`."""
    ssl_context = ssl.create_default_context(cafile=sb.env["AWS_CA_BUNDLE"])
    deadline = time.monotonic() + timeout
    while True:
        try:  # one byte: the URL signs only the host header, so a Range is allowed
            urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=0-0"}), context=ssl_context)
        except urllib.error.HTTPError as e:
            if b"Request has expired" in e.read():
                return
        assert time.monotonic() < deadline, "the restore URL did not expire"
        time.sleep(2)


def hc_there(sb: Sandbox, proc: subprocess.Popen[str], timeout: float = 120) -> dict:
    """Waits for the restore to have created the HC (with its URL); fails if the restore ended first."""
    deadline = time.monotonic() + timeout
    while not (found := sb.destination.kubectl().run("get", HC_KIND, HC_NAME, "-n", HC_NS, "--ignore-not-found",
                                                      "-o", "json")):  # fmt: skip
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the restore did not create the HC"
        time.sleep(0.5)
    return json.loads(found)
