"""Wiring for each verb: adapters, reporter, the verb's plan, the result and the exit code.
The CLI calls these with resolved options; nothing here parses flags."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

from kubectl_hcmigrate.options import KubeTarget, OutputFormat
from kubectl_hcmigrate.report import EXIT_CODES, HcmigrateError, Outcome
from kubectl_hcmigrate.ui import TextReporter, print_result


def _fail(output: OutputFormat, outcome: Outcome, message: str, undo_errors: list[str] = ()) -> int:  # type: ignore[assignment]
    sys.stderr.write(f"error: {message}\n")
    for err in undo_errors:
        sys.stderr.write(f"error: {err}\n")
    if outcome is Outcome.FAILED_SOURCE_RESTORED:
        sys.stderr.write("the source cluster was put back as it was before the command\n")
    elif outcome is Outcome.FAILED_NEEDS_ATTENTION and undo_errors:
        sys.stderr.write("the source cluster could NOT be put back fully: see the errors above\n")
    if output is OutputFormat.json:
        print_result({"outcome": outcome.value, "error": message, "undo_errors": list(undo_errors)}, as_json=True)
    return EXIT_CODES[outcome]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(output: OutputFormat, body: Callable[[TextReporter], dict[str, Any]]) -> int:
    """Runs a verb body and turns its result or failure into output and an exit code."""
    from kubectl_hcmigrate.pipeline import RunFailed

    # A runbook's timeout or `kill` sends SIGTERM: unwind like Ctrl-C, so the undos run.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    reporter = TextReporter(sys.stderr)
    try:
        result = body(reporter)
    except RunFailed as e:
        return _fail(output, e.outcome, e.message, e.undo_errors)
    except HcmigrateError as e:
        return _fail(output, e.outcome, str(e))
    except KeyboardInterrupt:
        return _fail(output, Outcome.INTERRUPTED, "interrupted")
    print_result(result, as_json=output is OutputFormat.json)
    return EXIT_CODES[Outcome(result.get("outcome", "SUCCEEDED"))]


def backup(kube_target: KubeTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate import backup as verb
        from kubectl_hcmigrate.kube import Kube
        from kubectl_hcmigrate.pipeline import dry_run as show
        from kubectl_hcmigrate.pipeline import execute
        from kubectl_hcmigrate.s3store import Bucket

        kube = Kube(kube_target, "source")
        bucket = Bucket(opts.bucket)
        b = verb.preflight(opts, kube, bucket, reporter, dry_run=dry_run)
        plan = verb.build_plan(b)
        if dry_run:
            return {"outcome": "SUCCEEDED", "dry_run": True, "changes": show(plan, reporter)}
        timings = execute(plan, reporter)
        return verb.result(b, timings)

    return run(output, body)
