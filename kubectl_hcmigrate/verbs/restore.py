"""restore: recreate a backed-up hosted cluster on the destination management cluster, its
etcd restored from the snapshot through one presigned URL set on the HostedCluster. Preflight
only reads: the bundle verifies, the destination can take the HC (verbs/preconditions.py), the
snapshot is there and intact, the destination has either no such HC or the one this same backup
restored (then the run carries on where it stopped). Objects are created phase after phase, the
ones of a phase a few at a time (verbs/restore_apply.py), each marked with the backup it came from. One already on the destination is kept as it is, so a re-run changes
nothing and never undoes what HyperShift's controllers did since; only what an earlier restore
of another backup left behind (its HC never came, or preflight would refuse) is replaced.
"""

from __future__ import annotations

import itertools
import time
from functools import partial
from typing import Any

from kubectl_hcmigrate.core import bundle as bundles
from kubectl_hcmigrate.core import marks, objects, releases, restore_url
from kubectl_hcmigrate.core.bundle import check_bundle_objects, load_objects, restore_sequence
from kubectl_hcmigrate.core.pipeline import Plan, Step, changed
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.redact import safe_url
from kubectl_hcmigrate.core.report import counted, step_seconds, succeeded
from kubectl_hcmigrate.core.wait import Wanted, wait_for
from kubectl_hcmigrate.etcd import init_watch
from kubectl_hcmigrate.verbs import readback as backups
from kubectl_hcmigrate.verbs import restore_apply
from kubectl_hcmigrate.verbs import restore_checks as checks
from kubectl_hcmigrate.verbs.restore_apply import HOOKS
from kubectl_hcmigrate.verbs.restore_found import HC, HCP, Restore, RestoreOptions

__all__ = ["HC", "HCP", "HOOKS", "Restore", "RestoreOptions", "build_plan", "preflight", "result", "wanted"]


def preflight(opts: RestoreOptions, kube: KubePort, bucket: BucketPort, reporter: Reporter) -> Restore:
    t0 = time.monotonic()
    checks.check_options(opts.url_expiry, opts.timeout, opts.wait)
    ns, name = opts.namespace, opts.name
    with checks.refusing(kube):
        bucket.preflight(probe_write=False)
        if opts.source_dir is not None:
            bundle = backups.read_from_dir(opts.source_dir, ns, name, opts.backup_id)
        else:
            bundle = backups.read_from_bucket(bucket, ns, name, opts.backup_id)
        m = bundle.manifest
        found = load_objects(bundle)
        check_bundle_objects(found, m)
        early = checks.check_destination(kube, found, m, opts.with_nodes, reporter, show=opts.dry_run)  # first
        key = backups.check_snapshot(bucket, bundle, reporter)
        resumed, url = marks.same_backup(kube.get(HC, ns, name), m, kube.context)
        if not resumed:
            checks.check_ha_etcd_release(checks.bundle_hc(found, m), opts.trust_ha_etcd, reporter)
            url = checks.url_of_kept_hcp(kube.get(HCP, objects.hcp_namespace_of(ns, name), name), m)
            checks.check_encryption_keys(kube, found, m)
            limit = restore_url.max_length(kube.crd(HC.qualified), kube.version_of(HC.group))
            restore_url.check(bucket.presign_get(key, opts.url_expiry, version_id=m.snapshot.version_id), limit)
    how = "carrying on with the HC it restored before" if resumed else "the HC is not there yet"
    reporter.line(f"backup {m.backup_id} of {ns}/{name} {m.taken()} on context '{m.source_context}'; {how}")
    objs = restore_sequence(found, opts.with_nodes)
    replicas = releases.etcd_replicas(checks.bundle_hc(found, m))
    r = Restore(opts, kube, bucket, reporter, bundle, objs, key, resumed, url, replicas, warnings=early)
    r.not_restored, left_out = bundles.left_out(found, opts.with_nodes)
    r.warnings += left_out  # said in the summary
    r.preflight_seconds = time.monotonic() - t0
    return r


def _create_namespaces(r: Restore) -> None:
    with restore_apply.failing(r, "create namespaces"):
        for ns in _missing_namespaces(r):
            changed(f"create Namespace {ns}")
            r.kube.create_namespace(ns)
            r.created_namespaces.append(ns)


def _missing_namespaces(r: Restore) -> list[str]:
    return [ns for ns in r.namespaces if r.kube.namespace(ns) is None]


def wanted(r: Restore) -> list[Wanted]:
    ns, name = r.opts.namespace, r.opts.name
    return [
        Wanted(HCP, objects.hcp_namespace_of(ns, name), name, "EtcdSnapshotRestored"),
        Wanted(HC, ns, name, "Available"),
    ]


def build_plan(r: Restore) -> Plan:
    plan = Plan("restore")
    plan.add(Step("create namespaces", lambda: _create_namespaces(r),
                  changes=lambda: [f"create namespace {ns}" for ns in _missing_namespaces(r)]))  # fmt: skip
    for _, group in itertools.groupby(r.objects, key=lambda o: (o.rule.restore_phase, o.rule.scope)):
        batch = list(group)
        kinds = ", ".join(dict.fromkeys(o.rule.kind for o in batch))
        plan.add(Step(f"create {kinds} in {objects.namespace_of(batch[0].obj)}", partial(restore_apply.create, r, batch),
                      changes=partial(restore_apply.describe_all, r, batch)))  # fmt: skip
    if r.opts.wait:
        watch = partial(init_watch.check_etcd_init, r.kube, r.namespaces[1])
        plan.add(Step("wait for the restored control plane",
                      lambda: wait_for(r.kube, wanted(r), r.opts.timeout, r.reporter, watch=watch)))  # fmt: skip
    if r.opts.wait and r.etcd_replicas > 1:  # T10: HyperShift reports a split etcd as restored
        plan.add(Step("check the etcd members form one cluster", partial(_check_etcd, r)))
    return plan


def _check_etcd(r: Restore) -> None:
    r.etcd_members = checks.check_etcd_one_cluster(r.kube, r.opts.namespace, r.opts.name, r.etcd_replicas, r.reporter)


def result(r: Restore, timings: dict[str, float]) -> dict[str, Any]:
    m = r.manifest
    return succeeded(
        r.opts,
        backup_id=m.backup_id,
        source_uid=m.hostedcluster.uid,
        destination_context=r.kube.context,
        resumed=r.resumed,
        with_nodes=r.opts.with_nodes,
        namespaces=r.namespaces,
        namespaces_created=r.created_namespaces,
        **counted(created=r.created, kept=r.kept, replaced=r.replaced, not_restored=r.not_restored),
        warnings=r.warnings,
        snapshot_key=m.snapshot.key,
        restore_url=safe_url(r.url) if r.url else None,
        waited=[str(w) for w in wanted(r)] if r.opts.wait else [],
        etcd_members=r.etcd_members,
        timings_seconds=step_seconds({"preflight": r.preflight_seconds, **timings}),
    )
