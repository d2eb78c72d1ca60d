"""Results as each verb returns them (the keys of verbs/*.result), for the golden-output tests:
sizes, lists and nesting at the scale a real run has (1000 Machines, 2500 kept objects)."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core.report import counted

HC, BACKUP_ID = "clusters/example", "20260301T101500Z"
MACHINES = [f"Machine clusters-example/example-us-east-2a-{i:04d}" for i in range(1000)]
KEPT = [f"Secret clusters-example/s-{i:04d}" for i in range(1500)] + [
    f"ConfigMap clusters-example/c-{i:04d}" for i in range(1000)
]

BACKUP: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "backup_id": BACKUP_ID,
    "bucket": "my-bucket",
    "snapshot_key": f"clusters/example/{BACKUP_ID}/etcd-snapshot.db",
    "snapshot_size": 580266393,
    "snapshot_sha256": "9f2c" * 16,
    "etcd_pod": "clusters-example/etcd-0",
    "manifest_key": f"clusters/example/{BACKUP_ID}/manifest.json",
    "bundle_dir": f"./hcmigrate-example-{BACKUP_ID}",
    "source": "resumed",
    "online": False,
    "etcd_revision": 184467,
    "api_down_seconds": 76.8,
    "timings_seconds": {"abort interrupted uploads": 0.02, "pause": 1.3, "etcd snapshot": 72.4, "bundle": 3.1},
    "warnings": ["control-plane pods still terminating after 60s: the snapshot was taken while the control plane "
                 "may still have been writing"],
    "timeline": [
        {"step": "pause", "started": "2026-03-01T10:15:00.120Z", "finished": "2026-03-01T10:15:01.420Z"},
        {"step": "etcd snapshot", "started": "2026-03-01T10:15:01.420Z", "finished": "2026-03-01T10:16:13.820Z"},
    ],
}  # fmt: skip
RESTORE: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "backup_id": BACKUP_ID,
    "source_uid": "4f7d0c2e-0000-4000-8000-000000000001",
    "destination_context": "destination",
    "resumed": True,
    "with_nodes": True,
    "namespaces": ["clusters", "clusters-example"],
    "namespaces_created": [],
    **counted(created=["HostedCluster clusters/example", *MACHINES], kept=KEPT, replaced=[], not_restored=[]),
    "warnings": [],
    "snapshot_key": BACKUP["snapshot_key"],
    "restore_url": "https://my-bucket.s3.amazonaws.com/clusters/example/20260301T101500Z/etcd-snapshot.db",
    "waited": ["HostedCluster clusters/example Available", "HostedControlPlane clusters-example/example Ready"],
    "etcd_members": "1 etcd member",
    "timings_seconds": {"preflight": 2.1, "create objects": 41.0, "wait": 312.6},
}
RESTORE_DRY_RUN: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "dry_run": True,
    "changes": [
        "namespaces: create Namespace clusters-example",
        *(f"create objects: create {o}" for o in MACHINES),
        "create objects: create HostedCluster clusters/example with the restore URL",
    ],
}
TEARDOWN: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "destination_context": "destination",
    "guard": "the destination runs clusters/example from backup 20260301T101500Z: Available",
    "source_hold": "held since 2026-03-01T10:15:02Z",
    "removed": ["HostedCluster clusters/example", "Namespace clusters-example", *MACHINES[:2]],
    "kept": ["Namespace clusters: it also holds HostedCluster bystander"],
    "warnings": [],
    "timings_seconds": {"guard": 0.4, "delete hostedcluster": 28.0, "delete namespace": 61.2},
}
HANDOFF: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "hostnames": ["api.example.hypershift.example.com", "oauth.example.hypershift.example.com"],
    "removed": ["Service clusters-example/kube-apiserver", "Route clusters-example/oauth"],
    "records": "hosted zone Z0123456789ABCDEFGHIJ",
    "source_owner": "source-external-dns",
    "timings_seconds": {"remove the source's records": 0.8, "wait for the records to go": 64.2},
}
MIGRATE: dict[str, Any] = {
    "next_steps": [  # the hosted cluster was out of reach: its OVN pods are restarted by hand
        "kubectl --context destination get secret -n clusters example-admin-kubeconfig -o jsonpath='{.data.kubeconfig}' "
        "| base64 -d > example.kubeconfig && kubectl --kubeconfig example.kubeconfig delete pods "
        "-n openshift-ovn-kubernetes -l app=ovnkube-node"
    ],
    "outcome": "SUCCEEDED",
    "warnings": [],
    "hostedcluster": HC,
    "backup_id": BACKUP_ID,
    "source_context": "source",
    "destination_context": "destination",
    "resumed": False,
    "backup": {**BACKUP, "warnings": [], "source": "paused (--keep-paused)", "api_down_seconds": None},
    "handoff": HANDOFF,
    "restore": {**RESTORE, "resumed": False},
    "teardown": TEARDOWN,
}
VERIFY: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "backup_id": BACKUP_ID,
    "created": "2026-03-01T10:16:30Z",
    "source_context": "source",
    "bundle": f"s3://my-bucket/clusters/example/{BACKUP_ID}/",
    "files": 14,
    "snapshot": f"s3://my-bucket/clusters/example/{BACKUP_ID}/etcd-snapshot.db",
    "snapshot_size": 580266393,
    "snapshot_sha256": "9f2c" * 16,
    "deep": True,
    "checked": ["every bundle file matches manifest.json", "the snapshot's sha256 matches the manifest"],
}
LISTED: list[dict[str, Any]] = [
    {
        "namespace": "clusters", "name": "example", "backup_id": BACKUP_ID, "created": "2026-03-01T10:16:30Z",
        "status": "complete", "complete": True, "snapshot_size": 580266393, "source_context": "source",
        "location": f"s3://my-bucket/clusters/example/{BACKUP_ID}/", "problem": None,
    },
    {
        "namespace": "clusters", "name": "example", "backup_id": "20260228T090000Z", "created": "2026-02-28T09:00:00Z",
        "status": "incomplete", "complete": False, "snapshot_size": None, "source_context": None,
        "location": "s3://my-bucket/clusters/example/20260228T090000Z/", "problem": None,
    },
]  # fmt: skip
OIDC: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "hostedcluster": HC,
    "issuer": "https://my-oidc-bucket.s3.us-east-2.amazonaws.com/example",
    "documents": [
        "s3://my-oidc-bucket/example/.well-known/openid-configuration",
        "s3://my-oidc-bucket/example/openid/v1/jwks",
    ],
    "written": ["s3://my-oidc-bucket/example/openid/v1/jwks"],
    "provider": "arn:aws:iam::123456789012:oidc-provider/my-oidc-bucket.s3.us-east-2.amazonaws.com/example",
}
PRUNE: dict[str, Any] = {
    "outcome": "SUCCEEDED",
    "dry_run": False,
    "where": "s3://my-bucket/clusters/example/",
    "backups": [
        {"hostedcluster": HC, "backup_id": BACKUP_ID, "status": "complete", "action": "keep", "reason": "newest complete"},
        {"hostedcluster": HC, "backup_id": "20260228T090000Z", "status": "incomplete", "action": "deleted",
         "reason": "incomplete and older than the newest complete one"},
    ],
    "deleted": ["clusters/example/20260228T090000Z"],
}  # fmt: skip
FLEET: dict[str, Any] = {
    "outcome": "FAILED_NEEDS_ATTENTION",
    "hostedclusters": 2,
    "results": [
        {"hostedcluster": HC, **{k: BACKUP[k] for k in ("outcome", "backup_id", "source")}, "exit_code": 0},
        {"hostedcluster": "clusters/other", "outcome": "FAILED_NEEDS_ATTENTION", "exit_code": 1,
         "error": "etcdctl snapshot save failed in clusters-other/etcd-0 (exit 1): context deadline exceeded"},
    ],
}  # fmt: skip
