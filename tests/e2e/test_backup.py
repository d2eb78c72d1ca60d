"""backup on the sandbox: the snapshot in S3 is the etcd's, the bundle is exactly this HC's,
and the source ends as it began (or stays paused when asked), whatever fails."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from kubectl_hcmigrate.core.archive import unpack
from tests.e2e.etcd_check import digest, hosted_digest, restored_etcd, trailer_ok
from tests.e2e.faults import scratch_files
from tests.e2e.helpers import (
    HCP_NS,
    assert_no_secrets,
    bystander,
    hcm,
    hcm_popen,
    incomplete_uploads,
    keys,
    put_back,
    s3,
    said,
    source_state,
    stop_mid_save,
    stop_mid_stream,
)  # fmt: skip
from tests.sandbox import faults
from tests.sandbox.harness import Sandbox

EXPECTED_HC_NS = {
    "hostedcluster-example.yaml", "nodepool-example-us-east-2a.yaml",
    "secret-example-pull-secret.yaml", "secret-example-ssh-key.yaml",
    "secret-example-etcd-encryption-key.yaml", "secret-example-admin-kubeconfig.yaml",
    "secret-example-kubeadmin-password.yaml",
    # Referenced by the HC and its NodePool under names without the `example-` prefix.
    "secret-audit-webhook.yaml", "configmap-user-ca-bundle.yaml", "configmap-machineconfig-extra.yaml",
    "kustomization.yaml",
}  # fmt: skip


def _backup(sb: Sandbox, tmp_path: Path, *extra: str, prefix: str) -> dict:
    proc = hcm(sb, "-o", "json", "backup", "--hc", "example", "-n", "clusters",
               "--prefix", prefix, "--dir", str(tmp_path / "bundle"), *extra)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert_no_secrets(sb, proc.stdout, proc.stderr)
    return json.loads(proc.stdout)


def _check_snapshot(sb: Sandbox, res: dict, tmp_path: Path) -> None:
    client, bucket = s3(sb), sb.env["HCMIGRATE_BUCKET"]
    body = client.get_object(Bucket=bucket, Key=res["snapshot_key"])["Body"].read()
    assert trailer_ok(body)
    assert len(body) == res["snapshot_size"]
    assert hashlib.sha256(body).hexdigest() == res["snapshot_sha256"]
    manifest = json.loads(client.get_object(Bucket=bucket, Key=res["manifest_key"])["Body"].read())
    assert manifest["snapshot"]["sha256"] == res["snapshot_sha256"]
    assert manifest["snapshot"]["size"] == len(body)
    (tmp_path / "snap.db").write_bytes(body)
    with restored_etcd(sb.bin, tmp_path / "snap.db", tmp_path) as conn:
        assert digest(conn) == hosted_digest(sb.etcd)


def _check_bundle(sb: Sandbox, res: dict, hcp_expect: dict[str, int]) -> dict[str, set[str]]:
    root = Path(res["bundle_dir"])
    manifest = json.loads((root / "manifest.json").read_text())
    for rel, sha in manifest["files"].items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == sha, rel
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), f"{p} is {oct(mode)}"
    rendered = subprocess.run([str(sb.bin / "kubectl"), "kustomize", str(root)], capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    assert not any("bystander" in d["metadata"]["name"] for d in docs)
    for d in docs:
        assert "status" not in d and "uid" not in d["metadata"] and "resourceVersion" not in d["metadata"]
    files = {f: {p.name for p in (root / f).iterdir()} for f in ("clusters", HCP_NS)}
    # The uploaded bundle is byte for byte the local one: two objects, the archive and the manifest.
    client, bucket = s3(sb), sb.env["HCMIGRATE_BUCKET"]
    prefix = res["manifest_key"].rsplit("/", 1)[0]
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"{prefix}/bundle.tar.gz", res["manifest_key"]]
    uploaded = unpack(client.get_object(Bucket=bucket, Key=f"{prefix}/bundle.tar.gz")["Body"].read(), "archive")
    assert uploaded == {rel: (root / rel).read_bytes() for rel in manifest["files"]}
    assert (
        client.get_object(Bucket=bucket, Key=res["manifest_key"])["Body"].read()
        == (root / "manifest.json").read_bytes()
    )
    kinds: dict[str, int] = {}
    for d in docs:
        if d["metadata"].get("namespace") == HCP_NS:
            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    assert kinds == hcp_expect
    hcp_secrets = {f for f in files[HCP_NS] if f.startswith("secret-")}
    assert not [s for s in hcp_secrets if "-token-" in s or "-dockercfg-" in s]
    assert "secret-pull-secret.yaml" in hcp_secrets and "secret-etcd-encryption-key.yaml" in hcp_secrets
    return files


def _backup_and_check(sb: Sandbox, tmp_path: Path, prefix: str, hcp_kinds: dict[str, int]) -> tuple[dict, dict]:
    """A plain backup, checked end to end; the source and bystander end as they began."""
    before, others = source_state(sb), bystander(sb)
    res = _backup(sb, tmp_path, prefix=prefix)
    assert res["etcd_pod"] == "etcd-0"
    _check_snapshot(sb, res, tmp_path)
    files = _check_bundle(sb, res, hcp_kinds)
    assert source_state(sb) == before
    assert bystander(sb) == others
    return res, files


def test_plain_backup(sandbox: Sandbox, tmp_path: Path) -> None:
    res, files = _backup_and_check(sandbox, tmp_path, "plain", {
        "HostedControlPlane": 1, "Cluster": 1, "AWSCluster": 1, "AWSMachineTemplate": 1, "AWSMachine": 2,
        "MachineDeployment": 1, "MachineSet": 1, "Machine": 2, "Secret": 7,
    })  # fmt: skip
    assert files["clusters"] == EXPECTED_HC_NS
    # Nothing left in the etcd pod.
    argv = [str(sandbox.bin / "kubectl"), f"--kubeconfig={sandbox.kubeconfig}", "exec", "-n", HCP_NS, "etcd-0",
            "-c", "etcd", "--", "ls", "/var/lib/data", "/tmp"]  # fmt: skip
    assert f".hcmigrate-snapshot-{res['backup_id']}" not in subprocess.run(argv, capture_output=True, text=True).stdout


def test_keep_paused_leaves_the_source_paused(sandbox: Sandbox, tmp_path: Path) -> None:
    before = source_state(sandbox)
    try:
        _backup(sandbox, tmp_path, "--keep-paused", prefix="paused")
        after = source_state(sandbox)
        assert after["hc_paused"] == "true"
        assert all(v == "true" for k, v in after["pools"].items() if k.startswith("example-"))
        assert after["pools"]["bystander-pool"] == before["pools"]["bystander-pool"]
        quiesced = ("kube-apiserver", "openshift-apiserver", "openshift-oauth-apiserver", "control-plane-operator")
        assert all(after["replicas"][d] == 0 for d in quiesced)
        assert after["operator"] == before["operator"]
    finally:
        put_back(sandbox, before)


def test_dry_run_changes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    before = source_state(sandbox)
    proc = hcm(sandbox, "-o", "json", "backup", "--hc", "example", "--prefix", "dry", "--dir", str(tmp_path / "b"),
               "--dry-run")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    changes = "\n".join(json.loads(proc.stdout)["changes"])  # said once, in the result
    assert "pausedUntil" in changes and "scale Deployment clusters-example/kube-apiserver from 1 to 0" in changes
    assert source_state(sandbox) == before
    assert keys(sandbox, "dry/") == [] and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--hc", "nope"], {}, "HostedCluster clusters/nope not found"),
        (["--hc", "example"], {"AWS_SECRET_ACCESS_KEY": "wrong-secret-value-123"}, "refused the credentials"),
        (["--hc", "example", "--bucket", "no-such-bucket"], {}, "does not exist"),
        (["--hc", "example", "--context", "nope"], {}, "kubeconfig has no context 'nope' for the source cluster"),
    ],
    ids=["unknown-hc", "wrong-s3-secret", "missing-bucket", "wrong-context"],
)
def test_preflight_failures_change_nothing(
    sandbox: Sandbox, tmp_path: Path, args: list[str], env: dict, message: str
) -> None:
    before = source_state(sandbox)
    proc = hcm(sandbox, "backup", *args, "--prefix", "bad", "--dir", str(tmp_path / "b"), env=env)
    assert proc.returncode == 3, proc.stderr
    lines = said(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert_no_secrets(sandbox, proc.stdout, proc.stderr)
    assert "wrong-secret-value-123" not in proc.stderr
    assert source_state(sandbox) == before
    assert keys(sandbox, "bad/") == []


def test_stream_cut_mid_transfer_leaves_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    before, prefix = source_state(sandbox), f"cut-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(sandbox, "backup", "--hc", "example", "--prefix", prefix, "--part-size-mib", "5",
                     "--dir", str(tmp_path / "b"))  # fmt: skip
    cat = stop_mid_stream(sandbox, proc)
    assert cat is not None, "the exec'd cat was never caught mid-file"
    os.kill(cat, signal.SIGKILL)  # the process serving the stream dies half-way
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    assert "put back" in err
    assert_no_secrets(sandbox, out, err)
    assert keys(sandbox, f"{prefix}/") == []
    assert incomplete_uploads(sandbox, f"{prefix}/") == []
    assert source_state(sandbox) == before


def _kill_when_streaming(sb: Sandbox, proc: subprocess.Popen, sig: signal.Signals) -> None:
    """Sends `sig` to the tool while the snapshot is part-way through the stream."""
    cat = stop_mid_stream(sb, proc)
    assert cat is not None, "the snapshot stream was never caught mid-file"
    proc.send_signal(sig)
    time.sleep(0.5)  # the tool reacts while the stream is still frozen half-way
    with contextlib.suppress(ProcessLookupError):  # gone with the connection the tool dropped
        os.kill(cat, signal.SIGCONT)


def test_sigterm_mid_stream_puts_the_source_back(sandbox: Sandbox, tmp_path: Path) -> None:
    before, prefix = source_state(sandbox), f"term-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(sandbox, "backup", "--hc", "example", "--prefix", prefix, "--part-size-mib", "5",
                     "--dir", str(tmp_path / "b"))  # fmt: skip
    _kill_when_streaming(sandbox, proc, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert keys(sandbox, f"{prefix}/") == [] and incomplete_uploads(sandbox, f"{prefix}/") == []
    assert source_state(sandbox) == before


def test_the_source_is_back_while_etcd_still_sends_the_snapshot(sandbox: Sandbox, tmp_path: Path) -> None:
    """The snapshot's content is fixed once etcd sends its first bytes: with `etcdctl snapshot save`
    frozen after them, the source is put back (kube-apiserver at its replicas, nothing paused, no
    record) before the save ends, and the backup completes once the save goes on."""
    before, prefix = source_state(sandbox), f"mid-save-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(
        sandbox, "-o", "json", "backup", "--hc", "example", "--prefix", prefix, "--dir", str(tmp_path / "b")
    )
    save = stop_mid_save(sandbox, proc)
    assert save is not None, "etcdctl snapshot save was never caught with bytes in its .part file"
    try:
        deadline, mid_save = time.monotonic() + 60, None
        while time.monotonic() < deadline and (mid_save := source_state(sandbox)) != before:
            time.sleep(0.5)
    finally:
        os.kill(save, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert mid_save == before
    assert json.loads(out)["snapshot_size"] > 0


def test_the_control_plane_is_back_before_the_snapshot_upload_ends(sandbox: Sandbox, tmp_path: Path) -> None:
    """The downtime does not grow with the snapshot: with the stream frozen half-way, the source is
    already as it was (kube-apiserver at its replicas, nothing paused, no record); the timeline
    says the same. Then an --online backup changes nothing at all and its manifest says so."""
    before, prefix = source_state(sandbox), f"early-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(sandbox, "-o", "json", "backup", "--hc", "example", "--prefix", prefix, "--part-size-mib", "5",
                     "--dir", str(tmp_path / "b"))  # fmt: skip
    cat = stop_mid_stream(sandbox, proc)
    assert cat is not None, "the snapshot stream was never caught mid-file"
    try:
        mid_upload = source_state(sandbox)
    finally:
        os.kill(cat, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert mid_upload == before
    res = json.loads(out)
    at = {e["step"]: e for e in res["timeline"]}
    assert at["resume source"]["finished"] <= at["upload snapshot"]["started"] <= at["upload snapshot"]["finished"]
    assert at["quiesce control plane"]["started"] <= at["etcd snapshot"]["started"]
    assert res["api_down_seconds"] is not None and res["source"] == "resumed"
    steps = {s["name"]: s["seconds"] for s in res["steps"]}
    print(f"\nplain backup: API down {res['api_down_seconds']}s of {sum(steps.values()):.1f}s, steps {steps}")
    assert source_state(sandbox) == before

    online = _backup(sandbox, tmp_path / "online", "--online", prefix=prefix)
    assert online["source"] == "untouched (--online)" and online["api_down_seconds"] == 0.0
    steps = [e["step"] for e in online["timeline"]]
    assert not {"record source state", "pause", "quiesce control plane", "resume source"} & set(steps), steps
    manifest = json.loads(s3(sandbox).get_object(Bucket=sandbox.env["HCMIGRATE_BUCKET"],
                                                 Key=online["manifest_key"])["Body"].read())  # fmt: skip
    assert manifest["online"] is True and manifest["etcd_revision"] == online["etcd_revision"] > 0
    assert source_state(sandbox) == before
    refused = hcm(sandbox, "backup", "--hc", "example", "--prefix", prefix, "--online", "--keep-paused")
    assert refused.returncode == 3 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--online cannot be combined with --keep-paused" in refused.stderr


def test_rerun_after_a_killed_backup_cleans_up(sandbox: Sandbox, tmp_path: Path) -> None:
    """Killed mid-stream: the source is back already (the stream runs after the resume); the
    next run aborts the killed run's upload and removes its scratch file."""
    before, prefix = source_state(sandbox), f"killed-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(sandbox, "backup", "--hc", "example", "--prefix", prefix, "--part-size-mib", "5",
                     "--dir", str(tmp_path / "b1"))  # fmt: skip
    _kill_when_streaming(sandbox, proc, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert source_state(sandbox) == before
    res = _backup(sandbox, tmp_path, prefix=prefix)
    assert source_state(sandbox) == before
    assert incomplete_uploads(sandbox, f"{prefix}/") == []
    complete = [k for k in keys(sandbox, f"{prefix}/") if k.endswith("manifest.json")]
    assert complete == [res["manifest_key"]]
    assert scratch_files(sandbox) == []


def test_ha_two_nodepools(ha_sandbox: Sandbox, tmp_path: Path) -> None:
    _, files = _backup_and_check(ha_sandbox, tmp_path, "ha", {
        "HostedControlPlane": 1, "Cluster": 1, "AWSCluster": 1, "AWSMachineTemplate": 2, "AWSMachine": 4,
        "MachineDeployment": 2, "MachineSet": 2, "Machine": 4, "Secret": 8,
    })  # fmt: skip
    assert {"nodepool-example-us-east-2a.yaml", "nodepool-example-us-east-2b.yaml"} <= files["clusters"]


def test_ha_uses_the_next_ready_member(ha_sandbox: Sandbox, tmp_path: Path) -> None:
    def ready(value: str) -> None:
        faults.kubelet_reports_ready(ha_sandbox.source, HCP_NS, "etcd-0", value == "True")

    ready("False")
    try:
        res = _backup(ha_sandbox, tmp_path, prefix="ha-next")
    finally:
        ready("True")
    assert res["etcd_pod"] == "etcd-1"
    _check_snapshot(ha_sandbox, res, tmp_path)
