"""Wiring for each verb: adapters, reporter, the verb's plan, the result and the exit code.
The CLI calls these with resolved options; nothing here parses flags."""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import kubectl_hcmigrate
from kubectl_hcmigrate import verbose
from kubectl_hcmigrate.cli_help import prog_name
from kubectl_hcmigrate.core import permissions
from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat
from kubectl_hcmigrate.core.pipeline import RunFailed, RunLog, interrupts_held, run_verb
from kubectl_hcmigrate.core.report import EXIT_CODES, HcmigrateError, Outcome, nothing_changed
from kubectl_hcmigrate.next_steps import next_step
from kubectl_hcmigrate.render import document, now, show
from kubectl_hcmigrate.ui import TextReporter

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube
    from kubectl_hcmigrate.core.lease import Lease
    from kubectl_hcmigrate.core.ports import KubePort
    from kubectl_hcmigrate.verbs.backup_found import BackupOptions
    from kubectl_hcmigrate.verbs.list import ListOptions
    from kubectl_hcmigrate.verbs.migrate import MigrateOptions
    from kubectl_hcmigrate.verbs.restore_found import RestoreOptions
    from kubectl_hcmigrate.verbs.verify import VerifyOptions


def _fail(out: Out, outcome: Outcome, message: str, undo_errors: Sequence[str] = (), log: RunLog | None = None) -> int:
    sys.stderr.write(f"error: {message}\n")
    for err in undo_errors:
        sys.stderr.write(f"error: {err}\n")
    changed = log.all_changes() if log else []
    sys.stderr.write("".join(f"warning: {w}\n" for w in (log.warnings if log else [])))  # no summary follows
    if log is not None and log.undone:
        sys.stderr.write(f"put back: {', '.join(log.undone)}\n")
    if outcome is Outcome.FAILED_SOURCE_RESTORED:
        sys.stderr.write("the source cluster was put back as it was before the command\n")
    elif outcome is Outcome.FAILED_NEEDS_ATTENTION and undo_errors:
        sys.stderr.write("the source cluster could NOT be put back fully: see the errors above\n")
    elif outcome is Outcome.FAILED_NEEDS_ATTENTION and changed:
        shown = changed[:10] + ([f"... and {len(changed) - 10} more"] if len(changed) > 10 else [])
        sys.stderr.write("changed before the failure, and not undone:\n" + "".join(f"  {c}\n" for c in shown))
    if out.fmt is not OutputFormat.text:
        result: dict[str, Any] = {"outcome": outcome.value, "error": message, "undo_errors": list(undo_errors)}
        if log is not None:
            result |= {"changed": changed, "undone": log.undone, "warnings": log.warnings}
        show(document(out.kind, result, out.started), out.fmt)
    return EXIT_CODES[outcome]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@dataclass
class Out:
    """How a run's result is printed: its format, its document kind, when it started."""

    fmt: OutputFormat
    kind: str
    started: datetime = field(default_factory=now)


def run(
    out: Out, body: Callable[[TextReporter], dict[str, Any]], text: Callable[[dict[str, Any]], None] | None = None
) -> int:
    """Runs a verb body and turns its result or failure into output and an exit code (`text`: a
    result's own text form, such as a table with a row per HC)."""
    # A runbook's timeout or `kill` sends SIGTERM: unwind like Ctrl-C, so the undos run.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    reporter = TextReporter(sys.stderr)
    try:
        ended: dict[str, Any] | BaseException = body(reporter)
    except (HcmigrateError, RunFailed, KeyboardInterrupt) as e:
        ended = e
    # The run is over: how it ended is said whole, and its code stands. In the command's own process
    # it stays held to the exit: given back to Python's handler, one that came as click unwound or the
    # interpreter shut down ended a SUCCEEDED migrate's JSON in a death by SIGINT (130 to a shell).
    with interrupts_held(reporter, to_exit=kubectl_hcmigrate.ends_with_run):
        if isinstance(ended, BaseException):
            reporter.end()  # the live line stays as it was, and the error goes below it
            return _failed(out, ended)
        doc = document(out.kind, ended, out.started)
        if text is not None and out.fmt is OutputFormat.text:
            text(ended)
        else:
            show(doc, out.fmt, next_step=next_step(doc, prog_name()))
        return EXIT_CODES[Outcome(ended.get("outcome", "SUCCEEDED"))]


def _failed(out: Out, e: BaseException) -> int:
    if isinstance(e, RunFailed):
        verbose.trace(e.__cause__)
        return _fail(out, e.outcome, e.message, e.undo_errors, e.log)
    if isinstance(e, HcmigrateError):
        verbose.trace(e)
        return _fail(out, e.outcome, str(e))
    return _fail(out, Outcome.INTERRUPTED, "interrupted")


class NamesAnHC(Protocol):
    """What the lease and the access check need of a verb's options."""

    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


def say_where(reporter: TextReporter, doing: str, kube: Kube) -> None:
    """The first line of a verb that reaches a cluster: which one, by context and server."""
    reporter.line(f"{doing} context {kube.context} ({kube.server})")


@contextmanager
def one_run(
    kubes: Sequence[tuple[KubePort, bool]], opts: NamesAnHC, run_id: str, reporter: TextReporter, *, dry_run: bool
) -> Iterator[list[Lease]]:
    """The HC's lease on every cluster the run changes (core/lease.py), held for the block; a dry
    run takes none but is refused as the real run would be. `(kube, True)`: may create the HC's
    namespace there to hold it (the run creates it anyway)."""
    from kubectl_hcmigrate.core.lease import check_free, holding

    if dry_run:
        with nothing_changed():
            for kube, _ in kubes:
                check_free(kube, opts.namespace, opts.name)
        yield []
        return
    with holding(kubes, opts.namespace, opts.name, run_id, reporter) as leases:
        yield leases


def check_access(kube: Any, needs: Sequence[Any], opts: NamesAnHC, side: str) -> None:
    """Refuse before the lease or any change unless the user may do all the run will do."""
    from kubectl_hcmigrate.adapters.kube_rbac import allowed
    from kubectl_hcmigrate.core.permissions import require

    with nothing_changed():
        require(lambda checks: allowed(kube, checks), needs, opts.namespace, opts.name, side)


def backup(kube_target: KubeTarget, opts: BackupOptions, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.adapters.s3dryrun import DryRunBucket
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import backup as verb

        verb.check_options(opts)  # before the lease: a refusal changes nothing at all
        # A dry run's bucket reads but never writes (restic's dry backend), so no step checks.
        bucket = DryRunBucket(Bucket(opts.bucket)) if dry_run else Bucket(opts.bucket)
        run_id, kube = new_run_id(), Kube(kube_target, "source")
        say_where(
            reporter, f"{'planning the backup of' if dry_run else 'backing up'} {opts.namespace}/{opts.name} from", kube
        )
        check_access(kube, permissions.BACKUP, opts, "source")
        with one_run([(kube, False)], opts, run_id, reporter, dry_run=dry_run):
            with nothing_changed():  # preflight only reads: whatever fails there is a refusal
                b = verb.preflight(dataclasses.replace(opts, run_id=run_id, dry_run=dry_run), kube, bucket, reporter)
            return run_verb(verb, b, reporter, dry_run=dry_run)

    return run(Out(output, "BackupResult"), body)


def restore(destination: KubeTarget, opts: RestoreOptions, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import restore as verb

        kube = Kube(destination, "destination")
        say_where(
            reporter, f"{'planning the restore of' if dry_run else 'restoring'} {opts.namespace}/{opts.name} onto", kube
        )
        check_access(kube, permissions.RESTORE, opts, "destination")
        with one_run([(kube, True)], opts, new_run_id(), reporter, dry_run=dry_run) as leases:
            with nothing_changed():
                r = verb.preflight(dataclasses.replace(opts, dry_run=dry_run), kube, Bucket(opts.bucket), reporter)
            result = run_verb(verb, r, reporter, dry_run=dry_run)
            if leases and leases[0].created_ns:  # created for the lease, before restore looked
                result["namespaces_created"] = [opts.namespace, *result.get("namespaces_created", [])]
            return result

    return run(Out(output, "RestoreResult"), body)


def list_backups(opts: ListOptions, *, output: OutputFormat, wide: bool = False, headers: bool = True) -> int:
    """The table (text), or `{"items": [...]}` as kubectl lists; notes on stderr."""
    from kubectl_hcmigrate.verbs import list as catalog

    started = now()
    try:
        from kubectl_hcmigrate.adapters.s3store import Bucket

        with nothing_changed():
            result = catalog.list_backups(opts, Bucket(opts.bucket))
    except HcmigrateError as e:
        return _fail(Out(output, "BackupList", started), e.outcome, str(e))
    if output is OutputFormat.text:
        catalog.show(result, wide=wide, headers=headers)
    else:
        show(document("BackupList", {"items": result["backups"]}, started), output)
    return 0


def verify(opts: VerifyOptions, *, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.verbs import verify as verb

        with nothing_changed():
            return verb.verify(opts, Bucket(opts.bucket), reporter)

    return run(Out(output, "VerifyResult"), body)


def migrate(
    source: KubeTarget, destination: KubeTarget, opts: MigrateOptions, *, dry_run: bool, output: OutputFormat
) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.cloud import records_for
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.adapters.s3dryrun import DryRunBucket
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import migrate as verb

        src, dst, run_id = Kube(source, "source"), Kube(destination, "destination"), new_run_id()
        say_where(
            reporter,
            f"{'planning the migration of' if dry_run else 'migrating'} {opts.namespace}/{opts.name} from",
            src,
        )
        say_where(reporter, "to", dst)
        check_access(src, permissions.BACKUP + permissions.TEARDOWN + permissions.HANDOFF, opts, "source")
        check_access(dst, permissions.RESTORE, opts, "destination")
        with one_run([(src, False), (dst, True)], opts, run_id, reporter, dry_run=dry_run):
            if dry_run:
                return verb.plan(opts, src, dst, DryRunBucket(Bucket(opts.bucket)), reporter)
            records = records_for(opts.cloud)
            return verb.migrate(
                dataclasses.replace(opts, run_id=run_id), src, dst, Bucket(opts.bucket), reporter, records
            )

    return run(Out(output, "MigrateResult"), body)
