"""migrate: backup --keep-paused, restore with the wait, then teardown, as one command that a
re-run carries on.

Where a run starts is read off the clusters, never off a local file: a destination HC restored
from this source HC means the backup and the restore's writes are done (restore then carries on
and waits, teardown finishes); otherwise a fresh backup is taken, keeping the source paused.

Only one control plane may ever run the HC. So a restore that fails before the HostedCluster
exists on the destination puts the source back (exit 4); once it exists, the source stays
paused and the message says how to go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kubectl_hcmigrate.core.handoff import Records
from kubectl_hcmigrate.core.options import CloudTarget, HostedClusterBackups
from kubectl_hcmigrate.core.pipeline import RunFailed, run_verb
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.report import HcmigrateError, Outcome, PreflightError
from kubectl_hcmigrate.core.source_state import HC, SourceControl, recorded
from kubectl_hcmigrate.etcd.members import EtcdNotOneCluster
from kubectl_hcmigrate.verbs import backup, handoff, restore, teardown
from kubectl_hcmigrate.verbs.migrate_checks import check_first

_HELD = "The destination has the HC, so the source stays paused (one control plane at a time): run migrate again"


@dataclass(frozen=True)
class MigrateOptions(HostedClusterBackups):
    dir: Path | None = None
    with_nodes: bool = False
    url_expiry: int = 6 * 3600
    timeout: int = 30 * 60
    run_id: str = ""
    trust_ha_etcd: bool = False  # restore_checks.TRUST_HA_ETCD
    handoff_timeout: int = 10 * 60  # the DNS handoff's waits (T16)
    cloud: CloudTarget | None = None  # where they are read (commands.migrate's Records)
    hosted_kubeconfig: str | None = None  # T18: the OVN pods are restarted through it


def migrate(
    opts: MigrateOptions,
    source: KubePort,
    destination: KubePort,
    bucket: BucketPort,
    reporter: Reporter,
    records: Records | None = None,
    hosted: KubePort | None = None,
) -> dict[str, Any]:
    """`records`: how the DNS handoff sees the HC's records (none: no handoff, as before T16);
    `hosted`: the hosted cluster itself, whose OVN pods then restart (else the command is printed)."""
    ns, name = opts.namespace, opts.name
    backup_id = check_first(opts, source, destination, bucket, reporter)
    stages: dict[str, Any] = {}
    # Each stage's line is printed inside the part that handles a signal: one can land while it is written.
    if backup_id is None:
        stages["backup"] = _backup_stage(opts, source, destination, bucket, reporter)
        backup_id = stages["backup"]["backup_id"]
    else:
        reporter.line(f"stage 1/3: done before (the destination has {ns}/{name} from backup {backup_id})")
    hand = partial(_handoff, opts, source, records, reporter) if records and "backup" in stages else None
    stages["restore"] = _restore(opts, backup_id, source, destination, bucket, reporter, hand)
    if hand is not None:
        stages["handoff"] = stages["restore"].pop("handoff")
    if records is not None and records.shows_owners:  # the teardown guard's DNS half, waited for here
        with _held_on_failure("the destination's ExternalDNS does not hold the hostnames"):
            hc = destination.get(HC, ns, name) or {}
            handoff.wait_destination_owns(records, hc, destination, opts.handoff_timeout, reporter)
    stages["teardown"] = _teardown_stage(opts, source, destination, reporter)
    outcome, warnings = overall(stages)
    nxt = handoff.restart_ovn(destination.get(HC, ns, name) or {}, destination.context, hosted, reporter)
    return {
        "next_steps": nxt,
        "outcome": outcome,
        "warnings": warnings,
        "hostedcluster": f"{ns}/{name}",
        "backup_id": backup_id,
        "source_context": source.context,
        "destination_context": destination.context,
        "resumed": "backup" not in stages,
        **stages,
    }


def overall(stages: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The migration's outcome and warnings: the last stage's outcome, and a warning of any stage (a
    restore that left the NodePools out) makes a success one with warnings."""
    warnings = [w for stage in stages.values() for w in stage.get("warnings", [])]
    outcome = stages["teardown"]["outcome"]
    return (Outcome.SUCCEEDED_WITH_WARNINGS.value if warnings and outcome == "SUCCEEDED" else outcome), warnings


def plan(
    opts: MigrateOptions, source: KubePort, destination: KubePort, bucket: BucketPort, reporter: Reporter
) -> dict[str, Any]:
    """--dry-run: the changes of every stage that can be known now; `bucket` must not write."""
    ns, name = opts.namespace, opts.name
    backup_id = check_first(opts, source, destination, bucket, reporter, show=True)
    changes: list[str] = []
    if backup_id is None:
        found = backup.preflight(_backup_options(opts, destination), source, bucket, reporter)
        changes += [f"backup: {c}" for c in run_verb(backup, found, reporter, dry_run=True)["changes"]]
        skip = handoff.skip_reason(source.get(HC, ns, name) or {})
        later = [
            f"handoff: none ({skip})"
            if skip
            else "handoff: delete the source's Routes/Services of the HC's hostnames and wait for their records to go",
            f"restore: create every object of the new backup on context '{destination.context}' and wait for it",
            f"teardown: remove {ns}/{name} from context '{source.context}' once the destination runs it",
        ]
        for line in later:  # their objects are known once the backup exists: say so, don't guess
            reporter.line(f"would {line}")
        return {"outcome": "SUCCEEDED", "dry_run": True, "changes": changes + later}
    r = restore.preflight(_restore_options(opts, backup_id), destination, bucket, reporter)
    changes += [f"restore: {c}" for c in run_verb(restore, r, reporter, dry_run=True)["changes"]]
    try:
        t = _teardown(opts, source, destination, reporter)
    except PreflightError as e:  # the restore above has not brought the HC up yet
        reporter.line(f"would teardown once its guard passes (now: {e})")
        return {"outcome": "SUCCEEDED", "dry_run": True, "changes": [*changes, f"teardown: once the guard passes: {e}"]}
    changes += [f"teardown: {c}" for c in run_verb(teardown, t, reporter, dry_run=True)["changes"]]
    return {"outcome": "SUCCEEDED", "dry_run": True, "changes": changes}


def _backup_options(opts: MigrateOptions, destination: KubePort) -> backup.BackupOptions:
    return backup.BackupOptions(
        opts.name, opts.namespace, opts.bucket, dir=opts.dir, keep_paused=True, run_id=opts.run_id,
        destination=destination.context,
    )  # fmt: skip


def _restore_options(opts: MigrateOptions, backup_id: str | None) -> restore.RestoreOptions:
    return restore.RestoreOptions(
        opts.name, opts.namespace, opts.bucket, backup_id=backup_id, with_nodes=opts.with_nodes,
        url_expiry=opts.url_expiry, timeout=opts.timeout, trust_ha_etcd=opts.trust_ha_etcd,
    )  # fmt: skip


def _teardown(opts: MigrateOptions, source: KubePort, destination: KubePort, reporter: Reporter) -> teardown.Teardown:
    return teardown.preflight(
        teardown.TeardownOptions(opts.name, opts.namespace), source, lambda: destination, reporter
    )


def _backup_stage(
    opts: MigrateOptions, source: KubePort, destination: KubePort, bucket: BucketPort, reporter: Reporter
) -> dict[str, Any]:
    """A signal inside the backup's plan is undone by it (a RunFailed). One just after the plan,
    before the restore began, finds the source held and nothing on the destination: it goes back."""
    reporter.line(f"stage 1/3: back up {opts.namespace}/{opts.name} from context '{source.context}' and keep it paused")
    found = backup.preflight(_backup_options(opts, destination), source, bucket, reporter)
    try:
        return run_verb(backup, found, reporter)
    except KeyboardInterrupt as e:
        undo_errors = _put_back(source, opts.namespace, opts.name, reporter)
        outcome = Outcome.FAILED_NEEDS_ATTENTION if undo_errors else Outcome.INTERRUPTED
        raise RunFailed(outcome, "interrupted after the backup, before the restore began", undo_errors) from e


def _teardown_stage(
    opts: MigrateOptions, source: KubePort, destination: KubePort, reporter: Reporter
) -> dict[str, Any]:
    """The destination runs the HC: whatever stops the teardown, the source stays held (what it
    removed stays removed, there is no undo) and a re-run of migrate finishes it."""
    try:
        reporter.line(f"stage 3/3: tear {opts.namespace}/{opts.name} down on context '{source.context}'")
        return run_verb(teardown, _teardown(opts, source, destination, reporter), reporter)
    except (HcmigrateError, RunFailed, KeyboardInterrupt) as e:
        outcome, message = _failure(e)
        undo_errors, log = (e.undo_errors, e.log) if isinstance(e, RunFailed) else ([], None)
        raise RunFailed(outcome, f"{message}. {_HELD} to finish the teardown", undo_errors, log) from e


def _restore(
    opts: MigrateOptions,
    backup_id: str,
    source: KubePort,
    destination: KubePort,
    bucket: BucketPort,
    reporter: Reporter,
    hand: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Restore and wait, after the DNS handoff when `hand` is given; on failure, the source goes
    back (the handoff's deletions too) only while the destination has no HC."""
    try:
        reporter.line(f"stage 2/3: restore backup {backup_id} on context '{destination.context}' and wait")
        handed = hand() if hand is not None else None
        r = restore.preflight(_restore_options(opts, backup_id), destination, bucket, reporter)
        return run_verb(restore, r, reporter) | ({"handoff": handed} if hand is not None else {})
    except (HcmigrateError, RunFailed, KeyboardInterrupt) as e:
        outcome, message = _failure(e)
        try:
            on_destination = destination.get(HC, opts.namespace, opts.name) is not None
        except HcmigrateError as unknown:  # the destination stopped answering: assume the worst
            raise RunFailed(
                Outcome.FAILED_NEEDS_ATTENTION,
                f"{message}. Whether the destination has the HC is unknown ({unknown}), so the source stays "
                "paused (one control plane at a time): run migrate again once the destination answers",
                [],
            ) from e
        if on_destination and isinstance(e.__cause__, EtcdNotOneCluster):
            raise RunFailed(
                Outcome.FAILED_NEEDS_ATTENTION,
                f"{message}. The source stays paused and held, as it was backed up (one control plane at a time): "
                "take the destination's copy down, then run migrate again with a release that carries the fix",
                [],
            ) from e
        if on_destination:
            raise RunFailed(
                after_failed_restore(outcome, hc_on_destination=True, undo_failed=False),
                f"{message}. {_HELD} to carry on",
                [],
            ) from e
        undo_errors = _put_back(source, opts.namespace, opts.name, reporter)
        final = after_failed_restore(outcome, hc_on_destination=False, undo_failed=bool(undo_errors))
        raise RunFailed(final, f"restore failed: {message}", undo_errors) from e


def _handoff(opts: MigrateOptions, source: KubePort, records: Records, reporter: Reporter) -> dict[str, Any]:
    """T16, between the backup and the restore: the source's records go before the HC is created."""
    h = handoff.preflight(handoff.HandoffOptions(opts.name, opts.namespace, opts.handoff_timeout), source, records,
                          reporter)  # fmt: skip
    return run_verb(handoff, h, reporter) if h is not None else {"outcome": "SUCCEEDED", "skipped": True}


@contextmanager
def _held_on_failure(what: str) -> Iterator[None]:
    try:
        yield
    except HcmigrateError as e:
        raise RunFailed(Outcome.FAILED_NEEDS_ATTENTION, f"{what}: {e}. {_HELD} to carry on", []) from e


def after_failed_restore(outcome: Outcome, *, hc_on_destination: bool, undo_failed: bool) -> Outcome:
    """The outcome of a migrate whose restore stage failed with `outcome`. Once the destination has
    the HC the source stays paused; before that, the source was put back (or failed to be)."""
    if hc_on_destination:
        return outcome if outcome in (Outcome.TIMED_OUT, Outcome.INTERRUPTED) else Outcome.FAILED_NEEDS_ATTENTION
    if undo_failed:
        return Outcome.FAILED_NEEDS_ATTENTION
    return Outcome.INTERRUPTED if outcome is Outcome.INTERRUPTED else Outcome.FAILED_SOURCE_RESTORED


def _failure(e: BaseException) -> tuple[Outcome, str]:
    if isinstance(e, RunFailed):
        return e.outcome, e.message
    if isinstance(e, KeyboardInterrupt):
        return Outcome.INTERRUPTED, "interrupted"
    return (e.outcome if isinstance(e, HcmigrateError) else Outcome.FAILED_NEEDS_ATTENTION), str(e)


def _put_back(source: KubePort, ns: str, name: str, reporter: Reporter) -> list[str]:
    """Puts back what the backup recorded on the source HC; its errors, if any."""
    hc = source.get(HC, ns, name)
    state = recorded(hc) if hc else None
    if state is None:
        return []
    reporter.step("undo pause and quiesce on the source")
    try:
        SourceControl(source, ns, name, state).put_back()
    except Exception as exc:  # the cause stays the headline; this one is listed below it
        return [f"putting the source back failed: {type(exc).__name__}: {exc}"]
    return []
