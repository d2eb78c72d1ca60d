"""Wiring for each verb: adapters, reporter, the verb's plan, the result and the exit code.
The CLI calls these with resolved options; nothing here parses flags."""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat
from kubectl_hcmigrate.core.pipeline import RunFailed, RunLog, run_verb
from kubectl_hcmigrate.core.report import EXIT_CODES, HcmigrateError, Outcome, nothing_changed
from kubectl_hcmigrate.ui import TextReporter, print_result

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.lease import Lease
    from kubectl_hcmigrate.core.ports import KubePort


def _fail(
    output: OutputFormat, outcome: Outcome, message: str, undo_errors: Sequence[str] = (), log: RunLog | None = None
) -> int:
    sys.stderr.write(f"error: {message}\n")
    for err in undo_errors:
        sys.stderr.write(f"error: {err}\n")
    changed = log.all_changes() if log else []
    if outcome is Outcome.FAILED_SOURCE_RESTORED:
        sys.stderr.write("the source cluster was put back as it was before the command\n")
    elif outcome is Outcome.FAILED_NEEDS_ATTENTION and undo_errors:
        sys.stderr.write("the source cluster could NOT be put back fully: see the errors above\n")
    elif outcome is Outcome.FAILED_NEEDS_ATTENTION and changed:
        shown = changed[:10] + ([f"... and {len(changed) - 10} more"] if len(changed) > 10 else [])
        sys.stderr.write("changed before the failure, and not undone:\n" + "".join(f"  {c}\n" for c in shown))
    if output is OutputFormat.json:
        result: dict[str, Any] = {"outcome": outcome.value, "error": message, "undo_errors": list(undo_errors)}
        if log is not None:
            result |= {"changed": changed, "undone": log.undone, "warnings": log.warnings}
        print_result(result, as_json=True)
    return EXIT_CODES[outcome]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Show(Protocol):
    """Prints a verb's result (print_result, unless the verb has a form of its own)."""

    def __call__(self, result: dict[str, Any], *, as_json: bool) -> None: ...


def run(output: OutputFormat, body: Callable[[TextReporter], dict[str, Any]], show: Show = print_result) -> int:
    """Runs a verb body and turns its result or failure into output and an exit code."""
    # A runbook's timeout or `kill` sends SIGTERM: unwind like Ctrl-C, so the undos run.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    reporter = TextReporter(sys.stderr)
    try:
        result = body(reporter)
    except RunFailed as e:
        return _fail(output, e.outcome, e.message, e.undo_errors, e.log)
    except HcmigrateError as e:
        return _fail(output, e.outcome, str(e))
    except KeyboardInterrupt:
        return _fail(output, Outcome.INTERRUPTED, "interrupted")
    show(result, as_json=output is OutputFormat.json)
    return EXIT_CODES[Outcome(result.get("outcome", "SUCCEEDED"))]


@contextmanager
def one_run(
    kubes: Sequence[tuple[KubePort, bool]], opts: Any, run_id: str, reporter: TextReporter, *, dry_run: bool
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


def backup(kube_target: KubeTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
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
        with one_run([(kube, False)], opts, run_id, reporter, dry_run=dry_run):
            with nothing_changed():  # preflight only reads: whatever fails there is a refusal
                b = verb.preflight(dataclasses.replace(opts, run_id=run_id), kube, bucket, reporter)
            return run_verb(verb, b, reporter, dry_run=dry_run)

    return run(output, body)


def restore(destination: KubeTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import restore as verb

        kube = Kube(destination, "destination")
        with one_run([(kube, True)], opts, new_run_id(), reporter, dry_run=dry_run) as leases:
            with nothing_changed():
                r = verb.preflight(opts, kube, Bucket(opts.bucket), reporter)
            result = run_verb(verb, r, reporter, dry_run=dry_run)
            if leases and leases[0].created_ns:  # created for the lease, before restore looked
                result["namespaces_created"] = [opts.namespace, *result.get("namespaces_created", [])]
            return result

    return run(output, body)


def list_backups(opts: Any, *, output: OutputFormat) -> int:
    from kubectl_hcmigrate.verbs import list as catalog

    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.s3store import Bucket

        with nothing_changed():
            return catalog.list_backups(opts, Bucket(opts.bucket))

    return run(output, body, show=catalog.show)


def verify(opts: Any, *, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.verbs import verify as verb

        with nothing_changed():
            return verb.verify(opts, Bucket(opts.bucket), reporter)

    return run(output, body)


def _confirm_force(name: str, *, yes: bool) -> None:
    """--force deletes without proof that the destination runs the HC: the user must say so."""
    from kubectl_hcmigrate.core.report import PreflightError

    if yes:
        return
    if not sys.stdin.isatty():
        raise PreflightError("--force needs --yes when there is no terminal to confirm on; nothing was changed")
    sys.stderr.write(f"--force: type the HostedCluster's name ({name}) to delete it from the source anyway: ")
    sys.stderr.flush()
    typed = sys.stdin.readline().strip()
    if not sys.stderr.isatty():  # else the terminal echoed the newline
        sys.stderr.write("\n")
    if typed != name:
        raise PreflightError("the name typed does not match; nothing was changed")


def teardown(
    source: KubeTarget, destination: KubeTarget, opts: Any, *, yes: bool, dry_run: bool, output: OutputFormat
) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import teardown as verb

        kube = Kube(source, "source")
        with one_run([(kube, False)], opts, new_run_id(), reporter, dry_run=dry_run):
            with nothing_changed():
                t = verb.preflight(opts, kube, lambda: Kube(destination, "destination"), reporter)
            if opts.force and not dry_run:
                _confirm_force(opts.name, yes=yes)
            return run_verb(verb, t, reporter, dry_run=dry_run)

    return run(output, body)


def migrate(source: KubeTarget, destination: KubeTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.adapters.s3dryrun import DryRunBucket
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import migrate as verb

        src, dst, run_id = Kube(source, "source"), Kube(destination, "destination"), new_run_id()
        with one_run([(src, False), (dst, True)], opts, run_id, reporter, dry_run=dry_run):
            if dry_run:
                return verb.plan(opts, src, dst, DryRunBucket(Bucket(opts.bucket)), reporter)
            return verb.migrate(dataclasses.replace(opts, run_id=run_id), src, dst, Bucket(opts.bucket), reporter)

    return run(output, body)
