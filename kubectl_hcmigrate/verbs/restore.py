"""restore: recreate a backed-up hosted cluster on the destination management cluster, its
etcd restored from the snapshot through one presigned URL set on the HostedCluster. Preflight
only reads: the bundle verifies, the destination can take the HC (verbs/preconditions.py), the
snapshot is there and intact, the destination has either no such HC or the one this same backup
restored (then the run carries on where it stopped). Objects are created, each marked with the
backup it came from. One already on the destination is kept as it is, so a re-run changes
nothing and never undoes what HyperShift's controllers did since; only what an earlier restore
of another backup left behind (its HC never came, or preflight would refuse) is replaced.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from kubectl_hcmigrate.core import bundle as bundles
from kubectl_hcmigrate.core import marks, objects, releases, restore_url
from kubectl_hcmigrate.core.bundle import Bundle, BundleObject, check_bundle_objects, load_objects, restore_sequence
from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.marks import BACKUP_ID, RESTORED_FROM_BACKUP, SOURCE_UID
from kubectl_hcmigrate.core.options import BackupChoice
from kubectl_hcmigrate.core.pipeline import Plan, Step, changed, unchanged
from kubectl_hcmigrate.core.ports import BucketPort, KubeError, KubePort, Reporter
from kubectl_hcmigrate.core.redact import safe_url, scrub
from kubectl_hcmigrate.core.report import PreflightError, StepFailed, counted, step_seconds, succeeded
from kubectl_hcmigrate.core.units import format_duration
from kubectl_hcmigrate.core.wait import Wanted, poll_until, wait_for
from kubectl_hcmigrate.etcd import init_watch
from kubectl_hcmigrate.verbs import readback as backups
from kubectl_hcmigrate.verbs import restore_checks as checks

HC, HCP = rule_for("HostedCluster", "hc"), rule_for("HostedControlPlane", "hcp")


@dataclass(frozen=True)
class RestoreOptions(BackupChoice):
    with_nodes: bool = False
    url_expiry: int = 6 * 3600
    timeout: int = 30 * 60
    wait: bool = True
    trust_ha_etcd: bool = False  # restore_checks.TRUST_HA_ETCD
    dry_run: bool = False  # preflight then lists every precondition's verdict


@dataclass
class Restore:
    """What preflight found; the steps act on it and fill in what they did."""

    opts: RestoreOptions
    kube: KubePort
    bucket: BucketPort
    reporter: Reporter
    bundle: Bundle
    objects: list[BundleObject]
    snapshot_key: str  # relative to the bucket's prefix
    resumed: bool
    url: str | None  # the HC's restore URL: kept from an earlier run, else presigned at apply time
    etcd_replicas: int  # more than one: the members are checked to form one cluster after the wait
    preflight_seconds: float = 0.0
    created_namespaces: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already on the destination: left as they were
    replaced: list[str] = field(default_factory=list)  # left by a restore of another backup
    etcd_members: str | None = None  # what the check after the wait found
    not_restored: list[str] = field(default_factory=list)  # in the bundle, left out (no --with-nodes)
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Manifest:
        return self.bundle.manifest

    @property
    def namespaces(self) -> list[str]:
        return [self.opts.namespace, objects.hcp_namespace_of(self.opts.namespace, self.opts.name)]


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


class Hook(NamedTuple):
    """What one kind gets on top of cleaning, and how the dry run says it."""

    prepare: Callable[[Restore, dict[str, Any]], dict[str, Any]]
    describe: Callable[[Restore], str]


def _signed_url(r: Restore) -> str:
    # Signed just before the first apply that needs it; an earlier run's URL stays, as the CRDs make
    # it immutable. On a versioned bucket the URL names the version backup wrote.
    r.url = r.url or r.bucket.presign_get(r.snapshot_key, r.opts.url_expiry, version_id=r.manifest.snapshot.version_id)
    return r.url


def _prepare_hcp(r: Restore, hcp: dict[str, Any]) -> dict[str, Any]:
    # T6: the HCP CRD lets the URL be set only at creation, and the HC controller copies the HC's
    # etcd block (URL included) onto the HCP (T5): created without it, every such update is refused
    # and the restore never starts. So it carries the same single URL as the HC, as upstream's OADP
    # plugin does.
    return restore_url.set_url(hcp, _signed_url(r))


def _prepare_hc(r: Restore, hc: dict[str, Any]) -> dict[str, Any]:
    m = r.manifest
    hc["metadata"].setdefault("annotations", {}).update(
        {BACKUP_ID: m.backup_id, SOURCE_UID: m.hostedcluster.uid, RESTORED_FROM_BACKUP: "true"}  # T8
        | marks.pools_left_out(r.not_restored)
    )
    return restore_url.set_url(hc, _signed_url(r))


def _describe_hc(r: Restore) -> str:
    if r.url:
        return f" keeping its restoreSnapshotURL {safe_url(r.url)}"
    where = f"s3://{r.bucket.name}/{r.manifest.snapshot.key}"
    return f" with restoreSnapshotURL [a GET of {where} presigned for {format_duration(r.opts.url_expiry)}]"


# Selected by the kind table's restore_hook.
HOOKS = {"restore-url": Hook(_prepare_hc, _describe_hc), "hcp-restore-url": Hook(_prepare_hcp, _describe_hc)}


@contextmanager
def _failing(r: Restore, what: str) -> Iterator[None]:
    """A failed write says what it was; an unreachable destination is no refusal by now."""
    try:
        yield
    except (KubeError, PreflightError) as e:
        raise StepFailed(f"{what} on context '{r.kube.context}' failed: {scrub(str(e))}") from None


def _create(r: Restore, batch: list[BundleObject]) -> None:
    for n, o in enumerate(batch, 1):
        r.reporter.count("objects", n - 1, len(batch))  # n/N on screen while the batch is long
        body = objects.clean(o.obj, o.rule)
        body["metadata"].setdefault("annotations", {})[BACKUP_ID] = r.manifest.backup_id
        hook = HOOKS[o.rule.restore_hook] if o.rule.restore_hook else None
        body = hook.prepare(r, body) if hook else body
        with _failing(r, f"create {o.label}"):
            changed(f"create {o.label}")
            if r.kube.create(o.rule, body):
                r.created.append(o.label)
            else:
                unchanged(f"create {o.label}")  # it was there already
                _keep_or_replace(r, o, body)


def _left_by(r: Restore, o: BundleObject) -> tuple[dict[str, Any] | None, str | None]:
    """The object on the destination, and the other backup whose restore left it there, if any."""
    there = r.kube.get(o.rule, objects.namespace_of(o.obj), objects.name_of(o.obj))
    theirs = ((there or {}).get("metadata", {}).get("annotations") or {}).get(BACKUP_ID)
    return there, theirs if theirs and theirs != r.manifest.backup_id else None


def _keep_or_replace(r: Restore, o: BundleObject, body: dict[str, Any]) -> None:
    there, theirs = _left_by(r, o)
    if there is None or theirs is None:
        r.kept.append(o.label)  # counted per kind in the result, not a line each (2,500 on a re-run)
        return
    changed(f"replace {o.label}")
    if o.rule == HCP and restore_url.current(there) != restore_url.current(body):
        # The HCP CRD makes its restore URL immutable: the other backup's HCP goes, this one's is created.
        _recreate(r, o, body)
    else:
        body["metadata"]["resourceVersion"] = there["metadata"]["resourceVersion"]
        r.kube.replace(o.rule, body)
    r.replaced.append(o.label)
    r.reporter.line(f"{o.label} was left by a restore of backup {theirs}: replaced with this backup's")


def _recreate(r: Restore, o: BundleObject, body: dict[str, Any], timeout: float = 60.0) -> None:
    ns, name = objects.namespace_of(o.obj), objects.name_of(o.obj)
    r.kube.delete(o.rule, ns, name)
    if not poll_until(
        lambda: r.kube.get(o.rule, ns, name) is None, timeout, every=0.5, reporter=r.reporter, what=o.label
    ):
        raise StepFailed(f"{o.label} left by another backup's restore is still being deleted after {timeout:.0f}s")
    r.kube.create(o.rule, body)


def _describe_all(r: Restore, batch: list[BundleObject]) -> list[str]:
    return [_describe(r, o) for o in batch]


def _describe(r: Restore, o: BundleObject) -> str:
    there, theirs = _left_by(r, o)
    if theirs is not None:
        return f"replace {o.label} (left by a restore of backup {theirs})"
    if there is not None:
        return f"keep {o.label} (already there)"
    hook = HOOKS[o.rule.restore_hook] if o.rule.restore_hook else None
    return f"create {o.label}" + (hook.describe(r) if hook else "")


def _create_namespaces(r: Restore) -> None:
    with _failing(r, "create namespaces"):
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
        plan.add(Step(f"create {kinds} in {objects.namespace_of(batch[0].obj)}", partial(_create, r, batch),
                      changes=partial(_describe_all, r, batch)))  # fmt: skip
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
