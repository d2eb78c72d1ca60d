"""backup: pause the HC, quiesce its control plane, save an etcd snapshot in the pod and read the
objects, put the source back (or keep it paused to migrate), then stream the snapshot into S3 and
write the kustomize-ready bundle next to it while the hosted cluster runs again.

The hosted API is down only from the scale-down to the scale-back: the objects read and a snapshot
whose content is fixed (etcd has opened its read transaction and sent the first bytes, see
etcd/saving.py) are all the backup needs of the quiesced source, so neither the rest of the save,
the stream nor the uploads add to the downtime. `--online` pauses nothing at all (upstream's HCPEtcdBackup): the
snapshot is still consistent at one etcd revision, which the manifest records.

Preflight only reads. Every step that changes the source has an undo, and the original state
is recorded on the HC before the first change, so a re-run after a crash still knows it. The
manifest is written last: a failure after the source is back leaves no complete-looking backup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.bundle_dir import check_bundle_dir
from kubectl_hcmigrate.core.layout import BackupLayout, hc_prefix, new_backup_id, utc_timestamp
from kubectl_hcmigrate.core.pipeline import Plan, Step, warn
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError, step_seconds, succeeded
from kubectl_hcmigrate.core.source_state import HC, NODEPOOL, Hold, SourceControl, SourceState, recorded
from kubectl_hcmigrate.core.wait import poll_until
from kubectl_hcmigrate.etcd.snapshotter import ready_etcd_pods
from kubectl_hcmigrate.verbs import backup_data as data
from kubectl_hcmigrate.verbs import preconditions
from kubectl_hcmigrate.verbs.backup_found import Backup, BackupOptions, check_options
from kubectl_hcmigrate.verbs.collect import SECRET
from kubectl_hcmigrate.verbs.leftovers import abort_ended_uploads, remove_scratch_leftovers

__all__ = ["Backup", "BackupOptions", "build_plan", "check_options", "preflight", "result"]

QUIESCE_WAIT_SECONDS = 60


def preflight(opts: BackupOptions, kube: KubePort, bucket: BucketPort, reporter: Reporter) -> Backup:
    check_options(opts)
    ns, name = opts.namespace, opts.name
    hc = kube.get(HC, ns, name)
    if hc is None:
        raise PreflightError(
            f"HostedCluster {ns}/{name} not found on context '{kube.context}': check --hc, -n and --context"
        )
    # T15 first, from the spec alone: kept paused for a migration, unfixed hostnames are refused.
    fixed = preconditions.fixed_hostnames(hc, migration=opts.keep_paused)
    warnings = preconditions.settle([fixed], reporter, show=opts.dry_run)
    hcp_ns = objects.hcp_namespace(hc)
    if kube.namespace(hcp_ns) is None:
        raise PreflightError(f"the control-plane namespace {hcp_ns} of {ns}/{name} does not exist")
    objects.infra_id(hc)
    for key in objects.encryption_key_names(hc):
        if kube.get(SECRET, ns, key) is None:
            raise PreflightError(
                f"the etcd encryption key secret {ns}/{key} is missing: without it the snapshot "
                "cannot be decrypted; restore that secret before backing up"
            )
    pods = ready_etcd_pods(kube, hcp_ns)
    if not pods:
        raise PreflightError(f"no Ready etcd pod in {hcp_ns}: the snapshot needs a healthy member")
    bucket.preflight()  # a dry run's bucket (s3store.DryRunBucket) skips the write probe
    pools = objects.nodepools_of(hc, kube.list_objects(NODEPOOL, ns))
    observed = SourceState.observe(hc, pools, kube.workloads("deployments", hcp_ns))
    # A record left by an interrupted run is the truth about what was there before; a pool
    # added since that run keeps its current setting.
    state = recorded(hc) or observed
    if opts.online and recorded(hc) is not None and state.held is None:
        raise PreflightError(
            f"HostedCluster {ns}/{name} still carries the record of an interrupted backup: run backup "
            "without --online once to put the source back, then take online backups"
        )
    state.nodepools = {**observed.nodepools, **state.nodepools}
    backup_id = new_backup_id(run_id=opts.run_id or None)
    # Keys relative to --prefix: the bucket adapter adds it, full_key() shows it.
    layout = BackupLayout("", ns, name, backup_id)
    folder = opts.dir or Path(f"{ns}-{name}-{backup_id}")
    check_bundle_dir(folder)
    return Backup(opts, kube, bucket, reporter, hc, state, pods, backup_id, layout, folder, warnings=warnings)


def build_plan(b: Backup) -> Plan:
    ctl = SourceControl(b.kube, b.opts.namespace, b.opts.name, b.state)
    plan = Plan("backup")
    hc_keys = hc_prefix("", b.opts.namespace, b.opts.name)
    plan.add(
        Step(
            "abort interrupted uploads",
            lambda: abort_ended_uploads(b.bucket, hc_keys, b.backup_id, b.reporter),
            changes=lambda: [f"abort unfinished multipart uploads of ended runs under {b.bucket.full_key(hc_keys)}"],
        )
    )
    plan.add(
        Step(
            "remove leftover snapshot files",
            lambda: remove_scratch_leftovers(b.kube, b.hcp_ns, b.etcd_pods, b.reporter),
            changes=lambda: [
                f"remove snapshot scratch files of interrupted runs from {b.hcp_ns}/{', '.join(b.etcd_pods)}"
            ],
        )
    )
    held, online = b.state.held, b.opts.online
    if held is None and not online:
        plan.add(
            Step(
                "record source state",
                ctl.record,
                undo=ctl.forget,
                undo_last_if_clean=True,
                changes=lambda: [f"annotate HostedCluster {b.opts.namespace}/{b.opts.name} with the state to put back"],
            )
        )
    if not online:
        # A source held for a migration stays paused and quiesced whatever happens: no undo.
        plan.add(Step("pause", ctl.pause, undo=None if held else ctl.unpause, changes=ctl.pause_changes))
        plan.add(
            Step(
                "quiesce control plane",
                lambda: _quiesce(b, ctl),
                undo=None if held else ctl.unquiesce,
                changes=ctl.quiesce_changes,
            )
        )
    # The objects first: a cluster that stops answering here leaves no scratch file to remove
    # through it. Both are read while the source is quiesced.
    plan.add(Step("read objects", lambda: data.read(b)))
    plan.add(
        Step(
            "etcd snapshot",
            lambda: data.save(b),
            undo=lambda: data.drop_scratch(b),
            changes=lambda: [f"save an etcd snapshot in {b.hcp_ns}/{b.etcd_pods[0]} (a scratch file, removed after)"],
        )
    )
    resume = Step(
        "resume source",
        ctl.put_back,
        undo=ctl.put_back,  # a put-back cut short is finished by the undo
        changes=lambda: ["put back pausedUntil and replicas as recorded, remove the annotation"],
    )
    if held is None and not online and not b.opts.keep_paused:
        plan.add(resume)  # all the backup needs of the quiesced source is in hand
    plan.add(
        Step(
            "upload snapshot",
            lambda: data.upload(b),
            undo=lambda: data.drop_orphan_snapshot(b),
            changes=lambda: [
                f"stream the etcd snapshot from {b.hcp_ns}/{b.etcd_pods[0]} to s3://{b.opts.bucket.bucket}/{b.layout.snapshot_key}"
            ],
        )
    )
    plan.add(
        Step(
            "write bundle",
            lambda: data.bundle(b),
            undo=lambda: data.drop_partial_bundle(b),
            changes=lambda: [
                f"write the bundle to {b.dir} and s3://{b.opts.bucket.bucket}/{b.bucket.full_key(b.layout.bundle_prefix)}"
            ],
        )
    )
    if held is not None:
        b.reporter.line(f"the source is {held.describe()}: it stays so")
    elif b.opts.keep_paused:
        plan.add(
            Step(
                "hold for migration",
                lambda: ctl.hold(Hold(b.backup_id, utc_timestamp(), b.opts.destination)),
                changes=lambda: [f"mark the source held for a migration by backup {b.backup_id}, keep it paused"],
            )
        )
    b.timeline.track(plan)
    return plan  # fmt: skip


def _quiesce(b: Backup, ctl: SourceControl) -> None:
    ctl.quiesce()
    # Wait for the writers to stop, so the snapshot holds no half-done change; not fatal.
    names = set(b.state.replicas)

    def stopped() -> bool:
        ctl.keep_quiesced()
        return not [p for p in b.kube.pods(b.hcp_ns) if p["metadata"].get("labels", {}).get("app") in names]

    if not poll_until(stopped, QUIESCE_WAIT_SECONDS, reporter=b.reporter, what="the control plane to stop"):
        warn(
            f"control-plane pods still terminating after {QUIESCE_WAIT_SECONDS}s: the snapshot was taken while "
            "the control plane may still have been writing"
        )


def result(b: Backup, timings: dict[str, float]) -> dict[str, Any]:
    snap = b.snapshot
    return succeeded(
        b.opts,
        backup_id=b.backup_id,
        bucket=b.opts.bucket.bucket,
        snapshot_key=b.bucket.full_key(b.layout.snapshot_key),
        snapshot_size=snap.size if snap else None,
        snapshot_sha256=snap.sha256 if snap else None,
        etcd_pod=snap.pod if snap else None,
        manifest_key=b.bucket.full_key(b.layout.manifest_key),
        bundle_dir=str(b.dir),
        source=_source_result(b),
        online=b.opts.online,
        etcd_revision=b.snapshot.revision if b.snapshot else None,
        api_down_seconds=_downtime(b),
        timings_seconds=step_seconds(timings),
        **({"warnings": b.warnings} if b.warnings else {}),
        timeline=b.timeline.entries,
    )


def _downtime(b: Backup) -> float | None:
    """From the scale-down's start to the scale-back's end: how long the hosted API was down
    (0 online; None while the source stays paused)."""
    if b.opts.online:
        return 0.0
    return b.timeline.between("quiesce control plane", "resume source")


def _source_result(b: Backup) -> str:
    if b.state.held is not None and b.state.held.backup_id != b.backup_id:  # held before this run
        return f"kept paused: {b.state.held.describe()}"
    if b.opts.online:
        return "untouched (--online)"
    return "paused (--keep-paused)" if b.opts.keep_paused else "resumed"
