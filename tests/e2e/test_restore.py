"""restore on the sandbox, after a real backup of `example` on `source`: every object lands on
`destination` cleaned and accepted by the real CRDs, the HC carries one presigned URL that
serves the snapshot byte for byte, re-runs change nothing, and every refusal changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_hcmigrate.core import kinds, objects
from kubectl_hcmigrate.core.archive import pack, unpack
from kubectl_hcmigrate.core.kinds import KindRule
from kubectl_hcmigrate.core.marks import BACKUP_ID
from tests.conftest import SandboxManager
from tests.e2e.etcd_check import digest, hosted_digest, restored_etcd, trailer_ok
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    assert_no_secrets,
    delete_restored,
    hcm,
    keys,
    operator_stopped,
    s3,
    said,
)
from tests.sandbox.harness import Sandbox

# --- fixtures and helpers ---------------------------------------------------------------------

_backups: dict[tuple[object, str], dict[str, Any]] = {}


@pytest.fixture
def tls_pair(sandbox: Sandbox) -> tuple[Path]:
    """The CA of the sandbox's HTTPS S3 (HyperShift takes only https:// restore URLs)."""
    return (Path(sandbox.env["AWS_CA_BUNDLE"]),)


@pytest.fixture
def https(sandbox: Sandbox) -> dict[str, str]:
    """Extra environment for a restore: none, the sandbox's S3 endpoint is HTTPS already."""
    return {}


@pytest.fixture(autouse=True)
def empty_destination(sandbox: Sandbox) -> None:
    delete_restored(sandbox)


@pytest.fixture(scope="module", autouse=True)
def leave_destination_empty(sandbox_manager: SandboxManager) -> Iterator[None]:
    """Tests in other modules find the destination as the sandbox made it."""
    yield
    if sandbox_manager.current is not None:
        delete_restored(sandbox_manager.current)


HCP_RULE = kinds.rule_for("HostedControlPlane", "hcp")
NEWER = "quay.io/openshift-release-dev/ocp-release:4.99.1-x86_64"  # an upgrade made on the destination


def backup(sb: Sandbox, tmp_path_factory: pytest.TempPathFactory, prefix: str, *, cached: bool = True) -> dict:
    """A real backup of `example` on `source` (over plain HTTP, as backup allows)."""
    if cached and (sb.cfg, prefix) in _backups:
        return _backups[sb.cfg, prefix]
    where = tmp_path_factory.mktemp("bundle") / "b"
    proc = hcm(sb, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", prefix, "--dir", str(where))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    _backups[sb.cfg, prefix] = res
    return res


def restore(
    sb: Sandbox, env: dict[str, str], *args: str, to: str | None = "destination"
) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    proc = hcm(sb, "-o", "json", "restore", "--hc", HC_NAME, *(["--to-context", to] if to else []), *args, env=env)
    return proc, time.monotonic() - t0


def bundle_objects(bundle_dir: Path) -> list[tuple[dict[str, Any], KindRule]]:
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    out = []
    for rel in manifest["files"]:
        if not rel.endswith("kustomization.yaml"):
            obj = yaml.safe_load((bundle_dir / rel).read_text())
            out.append((obj, kinds.rule_for_object(obj, "hc" if rel.startswith(f"{HC_NS}/") else "hcp")))
    return out


def secret_values(bundle_dir: Path) -> set[str]:
    """Every Secret value of the bundle, base64 and decoded, long enough not to match by chance."""
    values = set()
    for obj, _ in bundle_objects(bundle_dir):
        for v in (obj.get("data") or {}).values() if obj["kind"] == "Secret" else ():
            values |= {v, base64.b64decode(v).decode(errors="replace")}
    return {v for v in values if len(v) >= 8}


def assert_nothing_leaks(sb: Sandbox, bundle_dir: Path, *texts: str) -> None:
    assert_no_secrets(sb, *texts)
    for text in texts:
        leaked = [v for v in secret_values(bundle_dir) if v in text]
        assert not leaked, "secret data in the output"


def live(sb: Sandbox, rule: KindRule, namespace: str) -> dict[str, dict[str, Any]]:
    items = sb.destination.kubectl().get(rule.qualified, "-n", namespace, "--show-managed-fields")["items"]
    return {i["metadata"]["name"]: i for i in items}


def destination_state(sb: Sandbox) -> dict[str, Any]:
    """Every object restore may write on destination, in full (resourceVersion included)."""
    return {f"{r.qualified} {ns}": live(sb, r, ns) for r in kinds.RULES for ns in (HC_NS, HCP_NS)}


def settled_destination_state(sb: Sandbox, quiet: float = 3.0, timeout: float = 60.0) -> dict[str, Any]:
    """`destination_state` once HyperShift (the twin) has stopped changing it for `quiet` seconds."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        now = destination_state(sb)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
        time.sleep(0.5)
    raise AssertionError("the destination kept changing")


def destination_namespaces(sb: Sandbox) -> set[str]:
    names = {n["metadata"]["name"] for n in sb.destination.kubectl().get("namespaces")["items"]}
    return names & {HC_NS, HCP_NS}


def get_in(node: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        node = node.get(p) if isinstance(node, dict) else None
    return node


def subset(want: Any, got: Any) -> bool:
    """`want` is in `got`; the server may add defaults but must not drop or change anything."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and subset(v, got[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(map(subset, want, got))
    return want == got


def assert_restored(sb: Sandbox, bundle_dir: Path, *, with_nodes: bool) -> dict[str, Any]:
    """Every backed-up object is on destination as backed up and cleaned; returns the live HC."""
    for obj, rule in bundle_objects(bundle_dir):
        ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        found = live(sb, rule, ns).get(name)
        if rule.nodes_only and not with_nodes:
            # What HyperShift creates for a NodePool without machines (T14) is not restored.
            ours = found is not None and BACKUP_ID in (found["metadata"].get("annotations") or {})
            assert not ours, f"{rule.kind} {name} restored without --with-nodes"
            continue
        assert found is not None, f"{rule.kind} {ns}/{name} missing on destination"
        want = objects.clean(obj, rule)
        if rule.kind == "Cluster":  # HyperShift owns its pause: set on the paused source (T4), unset here (T7)
            want.get("spec", {}).pop("paused", None)
        assert subset({k: v for k, v in want.items() if k != "metadata"}, found), f"{rule.kind} {name} differs"
        meta = found["metadata"]
        # HyperShift's mark of a paused NodePool's machines (T14) goes with the pause.
        (want["metadata"].get("annotations") or {}).pop("cluster.x-k8s.io/paused", None)
        for key in ("labels", "annotations"):
            assert subset(want["metadata"].get(key, {}), meta.get(key, {})), f"{rule.kind} {name} {key}"
        # HyperShift puts its own finalizers back (T1, T14): none of them may come from the restore.
        written = [
            m.get("fieldsV1", {}).get("f:metadata", {}) for m in meta["managedFields"] if m["manager"] == "hcmigrate"
        ]
        assert not any({"f:ownerReferences", "f:finalizers"} & w.keys() for w in written), (
            f"{rule.kind} {name} not cleaned"
        )
        assert "ownerReferences" not in meta, f"{rule.kind} {name} not cleaned"
        assert "pausedUntil" not in found.get("spec", {}), f"{rule.kind} {name} still paused"
        # Only what HyperShift (the twin) reports: not the source's status.
        conditions = (found.get("status") or {}).get("conditions", [])
        assert "FromTheSource" not in {c["type"] for c in conditions}, f"{rule.kind} {name}"
        managers = {m["manager"] for m in meta["managedFields"] if m.get("subresource") != "status"}
        assert managers <= {"hcmigrate", "hypershift-twin"}, f"{rule.kind} {name} written by {managers}"
    if not with_nodes:
        # No NodePool came (T14: it would get new machines and new workers beside the old), so HyperShift
        # made no machine object either.
        made = [f"{r.kind} {n}" for r in kinds.RULES if r.nodes_only and r.scope == "hcp" for n in live(sb, r, HCP_NS)]
        assert not made, made
    return live(sb, kinds.rule_for("HostedCluster", "hc"), HC_NS)[HC_NAME]


def fetch(url: str, ca: Path) -> bytes:
    """What the etcd init container's curl gets: a plain GET, no credentials of its own."""
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=str(ca)), timeout=120) as resp:
        return resp.read()


def refused(proc: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 3 and one line saying why; only hashing a snapshot without its tag shows progress first."""
    assert proc.returncode == 3, proc.stderr
    *progress, error = said(proc.stderr)
    assert error.startswith("error: ") and message in error, proc.stderr
    assert all(line.startswith("hash snapshot: ") for line in progress), proc.stderr


# --- tests --------------------------------------------------------------------------------------


def test_restore_from_the_bucket_then_again_changes_nothing(
    sandbox: Sandbox, https: dict[str, str], tls_pair: tuple[Path, Path, Path],
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
) -> None:  # fmt: skip
    res = backup(sandbox, tmp_path_factory, "rst")
    bundle_dir = Path(res["bundle_dir"])
    proc, seconds = restore(sandbox, https, "--prefix", "rst", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    print(f"\nrestore without nodes, apply only: {seconds:.1f}s wall, steps {out['steps']}")
    assert out["backup_id"] == res["backup_id"] and out["resumed"] is False
    assert out["namespaces_created"] == [HC_NS, HCP_NS]
    assert out["snapshot_key"] == res["snapshot_key"] and "?" not in out["restore_url"]
    hc = assert_restored(sandbox, bundle_dir, with_nodes=False)
    assert hc["metadata"]["annotations"]["hcmigrate.openshift.io/backup-id"] == res["backup_id"]
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    assert hc["metadata"]["annotations"]["hcmigrate.openshift.io/source-uid"] == manifest["hostedcluster"]["uid"]
    [url] = hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"]
    assert url.startswith(sandbox.env["AWS_ENDPOINT_URL_S3"] + "/") and "X-Amz-Signature=" in url
    assert out["restore_url"] == url.split("?")[0]
    # What the etcd init container would do: download with a plain GET and restore it.
    body = fetch(url, tls_pair[0])
    assert not body.startswith(b"<?xml") and len(body) == res["snapshot_size"]
    assert hashlib.sha256(body).hexdigest() == res["snapshot_sha256"] and trailer_ok(body)
    (tmp_path / "snap.db").write_bytes(body)
    with restored_etcd(sandbox.bin, tmp_path / "snap.db", tmp_path) as conn:
        assert digest(conn) == hosted_digest(sandbox.etcd)
    assert_nothing_leaks(sandbox, bundle_dir, proc.stdout, proc.stderr)

    # What happens on the destination after a restore (an upgrade, a rotated secret): a re-run keeps it.
    dest = sandbox.destination.kubectl()
    upgrade = json.dumps({"spec": {"release": {"image": NEWER}}})  # HyperShift carries it onto the HCP (T5)
    dest.run("patch", HC_KIND, HC_NAME, "-n", HC_NS, "--type=merge", "-p", upgrade)
    rotated = base64.b64encode(b"rotated by the operator").decode()
    first_secret = next(o for o, r in bundle_objects(bundle_dir) if r.kind == "Secret" and r.scope == "hcp")
    dest.run("patch", "secret", first_secret["metadata"]["name"], "-n", HCP_NS, "--type=merge",
             "-p", json.dumps({"data": {"rotated": rotated}}))  # fmt: skip
    before = settled_destination_state(sandbox)
    again, _ = restore(sandbox, https, "--prefix", "rst", "--no-wait")
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["resumed"] is True and rerun["namespaces_created"] == [] and rerun["objects_created"] == 0
    assert rerun["objects_kept"] == len(rerun["kept"]) == out["objects_created"] == len(out["created"])
    assert destination_state(sandbox) == before
    assert live(sandbox, HCP_RULE, HCP_NS)[HC_NAME]["spec"]["releaseImage"] == NEWER

    # A re-run that waits ends once HyperShift reports the restored control plane, and changes nothing.
    waited, seconds = restore(sandbox, https, "--prefix", "rst", "--timeout", "2m")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["objects_created"] == 0
    assert settled_destination_state(sandbox) == before
    assert_nothing_leaks(sandbox, bundle_dir, again.stdout, again.stderr, waited.stdout, waited.stderr)


def dirty_copy(bundle_dir: Path, into: Path) -> Path:
    """The bundle with server-owned fields put back into its objects and the manifest updated,
    as an older tool or a hand-made bundle would have them: restore must clean them itself."""
    shutil.copytree(bundle_dir, into)
    manifest = json.loads((into / "manifest.json").read_text())
    for rel in manifest["files"]:
        if rel.endswith("kustomization.yaml"):
            continue
        obj = yaml.safe_load((into / rel).read_text())
        obj["metadata"].update(
            uid="0f4a6d1e-0000-4000-8000-000000000001", resourceVersion="48213", generation=3,
            creationTimestamp="2024-05-01T10:00:00Z", finalizers=["hypershift.openshift.io/finalizer"],
            managedFields=[{"manager": "hypershift", "operation": "Update", "apiVersion": obj["apiVersion"]}],
            ownerReferences=[{"apiVersion": "v1", "kind": "Namespace", "name": "x", "uid": "y"}],
        )  # fmt: skip
        obj["status"] = {"conditions": [{"type": "FromTheSource", "status": "True"}]}
        if obj["kind"] in ("HostedCluster", "NodePool", "HostedControlPlane"):
            obj["spec"]["pausedUntil"] = "true"
        (into / rel).write_text(yaml.safe_dump(obj))
        manifest["files"][rel] = hashlib.sha256((into / rel).read_bytes()).hexdigest()
    (into / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return into


def test_restore_with_nodes_from_a_directory_waits_for_the_control_plane(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    res = backup(sandbox, tmp_path_factory, "rst")
    bundle_dir = dirty_copy(Path(res["bundle_dir"]), tmp_path / "dirty")
    proc, seconds = restore(sandbox, https, "--with-nodes", "--from", str(bundle_dir), "--timeout", "2m")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    print(f"\nrestore with nodes and the wait (conditions set by the twin): {seconds:.1f}s wall, "
          f"steps {out['steps']}")  # fmt: skip
    assert out["objects_created"] == len(bundle_objects(bundle_dir)) and out["with_nodes"] is True
    assert "EtcdSnapshotRestored=" in proc.stderr and out["waited"]
    hc = assert_restored(sandbox, bundle_dir, with_nodes=True)
    assert len(hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"]) == 1
    assert hc["metadata"]["uid"] != "0f4a6d1e-0000-4000-8000-000000000001"
    machines = {r.kind: len(live(sandbox, r, HCP_NS)) for r in kinds.RULES if r.nodes_only and r.scope == "hcp"}
    assert machines == {"AWSCluster": 1, "AWSMachineTemplate": 1, "AWSMachine": 2, "MachineDeployment": 1,
                        "MachineSet": 1, "Machine": 2}  # fmt: skip
    assert_nothing_leaks(sandbox, bundle_dir, proc.stdout, proc.stderr)


def test_an_hc_restored_from_another_backup_is_left_alone(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    older = backup(sandbox, tmp_path_factory, "two", cached=False)
    time.sleep(1.1)  # backup ids have one-second resolution
    newer = backup(sandbox, tmp_path_factory, "two", cached=False)
    proc, _ = restore(sandbox, https, "--prefix", "two", "--backup-id", older["backup_id"], "--no-wait")
    assert proc.returncode == 0, proc.stderr
    before = settled_destination_state(sandbox)
    # Without --backup-id the newest backup is picked: not the one that HC came from.
    proc, _ = restore(sandbox, https, "--prefix", "two", "--no-wait")
    refused(proc, f"restored from backup {older['backup_id']}), not from backup {newer['backup_id']}")
    assert destination_state(sandbox) == before


def test_another_encryption_key_on_the_destination_is_refused(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    res = backup(sandbox, tmp_path_factory, "rst")
    hc = next(o for o, r in bundle_objects(Path(res["bundle_dir"])) if r == kinds.rule_for("HostedCluster", "hc"))
    [key_name] = objects.encryption_key_names(hc)
    dest = sandbox.destination.kubectl()
    dest.run("create", "namespace", HC_NS)
    dest.run("create", "secret", "generic", key_name, "-n", HC_NS, "--from-literal=key=c29tZW9uZSBlbHNlJ3M=")
    before = destination_state(sandbox)
    proc, _ = restore(sandbox, https, "--prefix", "rst", "--no-wait")
    refused(proc, f"Secret {HC_NS}/{key_name} on context 'destination' holds another etcd encryption key")
    assert destination_state(sandbox) == before and destination_namespaces(sandbox) == {HC_NS}


def test_what_a_restore_of_another_backup_left_is_replaced(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    older = backup(sandbox, tmp_path_factory, "left", cached=False)
    proc, _ = restore(sandbox, https, "--prefix", "left", "--backup-id", older["backup_id"], "--no-wait")
    assert proc.returncode == 0, proc.stderr
    # As if that restore stopped before the HostedCluster, and the source ran on and changed.
    dest, src = sandbox.destination.kubectl(), sandbox.source.kubectl()
    # Without its finalizer, or HyperShift's delete path would take the HCP namespace with it (T3). The
    # destination's operator is stopped meanwhile: it puts the finalizer back on every reconcile (T1).
    with operator_stopped(sandbox, "destination"):
        dest.run("patch", HC_KIND, HC_NAME, "-n", HC_NS, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        dest.run("delete", HC_KIND, HC_NAME, "-n", HC_NS, "--wait=true")
    was = src.get(HCP_RULE.qualified, HC_NAME, "-n", HCP_NS)["spec"]["releaseImage"]
    upgrade = json.dumps({"spec": {"releaseImage": NEWER}})
    src.run("patch", HCP_RULE.qualified, HC_NAME, "-n", HCP_NS, "--type=merge", "-p", upgrade)
    try:
        time.sleep(1.1)  # backup ids have one-second resolution
        newer = backup(sandbox, tmp_path_factory, "left", cached=False)
    finally:
        src.run("patch", HCP_RULE.qualified, HC_NAME, "-n", HCP_NS, "--type=merge",
                "-p", json.dumps({"spec": {"releaseImage": was}}))  # fmt: skip
    proc, _ = restore(sandbox, https, "--prefix", "left", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["backup_id"] == newer["backup_id"] and out["resumed"] is False
    assert f"HostedControlPlane {HCP_NS}/{HC_NAME}" in out["replaced"], (out, proc.stderr)
    assert out["created"] == [f"HostedCluster {HC_NS}/{HC_NAME}"] and out["kept"] == []
    hcp = live(sandbox, HCP_RULE, HCP_NS)[HC_NAME]
    hc = live(sandbox, kinds.rule_for("HostedCluster", "hc"), HC_NS)[HC_NAME]
    # The newer backup's HCP, with the new HC's URL (HyperShift then copies the HC's release onto it, T5).
    storage = ("etcd", "managed", "storage", "restoreSnapshotURL")
    assert get_in(hcp["spec"], storage) == get_in(hc["spec"], storage)
    for obj, rule in bundle_objects(Path(newer["bundle_dir"])):
        if not rule.nodes_only:
            there = live(sandbox, rule, obj["metadata"]["namespace"])[obj["metadata"]["name"]]
            assert there["metadata"]["annotations"][BACKUP_ID] == newer["backup_id"], f"{rule.kind} {there}"


def tamper_in_bucket(sb: Sandbox, res: dict, prefix: str) -> None:
    """A copy of the backup's bundle under `prefix`, with one byte of the HC file in its archive changed."""
    client, bucket = s3(sb), sb.env["HCMIGRATE_BUCKET"]
    source = res["manifest_key"].rsplit("/", 1)[0] + "/"
    for key in keys(sb, source):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        if key.endswith("/bundle.tar.gz"):
            files = unpack(body, key)
            hc_file = f"{HC_NS}/hostedcluster-example.yaml"
            body = pack({**files, hc_file: files[hc_file].replace(b"SingleReplica", b"SingleReplicb", 1)})
        client.put_object(Bucket=bucket, Key=prefix + "/" + key.split("/", 1)[1], Body=body)


def tamper_in_dir(res: dict, into: Path) -> Path:
    shutil.copytree(res["bundle_dir"], into)
    path = into / HC_NS / "secret-example-pull-secret.yaml"
    data = bytearray(path.read_bytes())
    data[-2] ^= 1
    path.write_bytes(bytes(data))
    return into


@pytest.mark.parametrize(
    "case",
    ["tampered-in-s3", "tampered-dir", "snapshot-deleted", "snapshot-replaced", "url-expiry-8d", "url-expiry-0",
     "url-expiry-under-timeout", "url-expiry-under-timeout-dry-run", "plain-http", "wrong-s3-secret"],
)  # fmt: skip
def test_refusals_change_nothing(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, case: str
) -> None:
    res = backup(sandbox, tmp_path_factory, "rst")
    env, args = dict(https), ["--no-wait"]
    if case == "tampered-in-s3":
        tamper_in_bucket(sandbox, res, "tampered")
        args += ["--prefix", "tampered"]
        message = "bundle file clusters/hostedcluster-example.yaml does not match manifest.json"
    elif case == "tampered-dir":
        args += ["--from", str(tamper_in_dir(res, tmp_path / "b"))]
        message = "bundle file clusters/secret-example-pull-secret.yaml does not match manifest.json"
    elif case == "snapshot-deleted":
        gone = backup(sandbox, tmp_path_factory, "nosnap")
        s3(sandbox).delete_object(Bucket=sandbox.env["HCMIGRATE_BUCKET"], Key=gone["snapshot_key"])
        args += ["--prefix", "nosnap"]
        message = f"the etcd snapshot s3://{sandbox.env['HCMIGRATE_BUCKET']}/{gone['snapshot_key']} of backup"
    elif case == "snapshot-replaced":
        # Same size, one byte changed, no sha256 tag: its ETag is not the one backup recorded.
        other = backup(sandbox, tmp_path_factory, "replaced")
        client, bucket = s3(sandbox), sandbox.env["HCMIGRATE_BUCKET"]
        body = bytearray(client.get_object(Bucket=bucket, Key=other["snapshot_key"])["Body"].read())
        body[len(body) // 2] ^= 1
        client.put_object(Bucket=bucket, Key=other["snapshot_key"], Body=bytes(body))
        args += ["--prefix", "replaced"]
        message = f"is not the object backup {other['backup_id']} wrote (ETag "
    elif case.startswith("url-expiry-under-timeout"):
        # The wait would outlive the URL: refused, in the dry run too (a --no-wait run takes it).
        args = ["--prefix", "rst", "--url-expiry", "30m", "--timeout", "30m", *(["--dry-run"] * case.endswith("run"))]
        message = "--url-expiry 30m is shorter than the 30m of --timeout plus 1m for etcd-init to fetch the snapshot"
    elif case.startswith("url-expiry"):
        args += ["--prefix", "rst", "--url-expiry", case.rsplit("-", 1)[1]]
        message = "--url-expiry must be more than 0 and at most 7d"
    elif case == "plain-http":
        env = {"AWS_ENDPOINT_URL_S3": sandbox.env["HCMIGRATE_SANDBOX_S3_HTTP"]}
        args += ["--prefix", "rst"]
        message = "HyperShift accepts only https:// restore URLs"
    else:
        env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-value-123"
        args += ["--prefix", "rst"]
        message = "S3 refused the credentials"
    proc, _ = restore(sandbox, env, *args)
    refused(proc, message)
    assert_nothing_leaks(sandbox, Path(res["bundle_dir"]), proc.stdout, proc.stderr)
    assert "wrong-secret-value-123" not in proc.stdout + proc.stderr
    assert destination_namespaces(sandbox) == set()


def test_dry_run_lists_every_object_and_changes_nothing(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    res = backup(sandbox, tmp_path_factory, "rst")
    proc, _ = restore(sandbox, https, "--prefix", "rst", "--with-nodes", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    for obj, rule in bundle_objects(Path(res["bundle_dir"])):
        label = f"{rule.kind} {obj['metadata']['namespace']}/{obj['metadata']['name']}"
        assert sum(c.endswith(": create " + label) or (": create " + label + " with") in c for c in changes) == 1, label
    # Said once, in the result (stderr only names the cluster).
    assert f"create namespaces: create namespace {HCP_NS}" in changes and "would " not in proc.stderr
    assert any("restoreSnapshotURL [a GET of s3://" in c for c in changes)
    assert_nothing_leaks(sandbox, Path(res["bundle_dir"]), proc.stdout, proc.stderr)
    assert destination_namespaces(sandbox) == set()


def test_the_runbooks_mgmt2_kubeconfig_picks_the_destination(
    sandbox: Sandbox, https: dict[str, str], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    backup(sandbox, tmp_path_factory, "rst")
    only_destination = tmp_path / "mgmt2.kubeconfig"
    only_destination.write_text(
        sandbox.destination.kubectl().run("config", "view", "--minify", "--flatten", "--context", "destination")
    )
    env = {**https, "MGMT2_KUBECONFIG": str(only_destination)}
    proc, _ = restore(sandbox, env, "--prefix", "rst", "--no-wait", to=None)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["destination_context"] == "destination"
    assert destination_namespaces(sandbox) == {HC_NS, HCP_NS}
    # Without either, the kubeconfig's current context is used: here the source, whose own HC is refused.
    proc, _ = restore(sandbox, https, "--prefix", "rst", to=None)
    refused(proc, "context 'source' is the cluster backup ")
