"""Wiring of teardown: its guard's DNS half, and the confirmation --force asks for (commands.py
holds the wiring the verbs share)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from kubectl_hcmigrate.commands import Out, check_access, one_run, run, say_where
from kubectl_hcmigrate.core import permissions
from kubectl_hcmigrate.core.options import CloudTarget, KubeTarget, OutputFormat
from kubectl_hcmigrate.core.pipeline import run_verb
from kubectl_hcmigrate.core.report import nothing_changed
from kubectl_hcmigrate.ui import TextReporter

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube
    from kubectl_hcmigrate.verbs.teardown import Teardown, TeardownOptions


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


def _checked(destination: KubeTarget, opts: TeardownOptions) -> Kube:
    """The destination teardown reads (only without --force), once its reads are allowed."""
    from kubectl_hcmigrate.adapters.kube import Kube

    kube = Kube(destination, "destination")
    check_access(kube, permissions.TEARDOWN_DESTINATION, opts, "destination")
    return kube


def teardown(
    source: KubeTarget,
    destination: KubeTarget,
    opts: TeardownOptions,
    *,
    yes: bool,
    dry_run: bool,
    output: OutputFormat,
    cloud: CloudTarget | None = None,
) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import teardown as verb

        kube = Kube(source, "source")
        doing = "planning the teardown of" if dry_run else "tearing down"
        say_where(reporter, f"{doing} {opts.namespace}/{opts.name} from", kube)
        check_access(kube, permissions.TEARDOWN, opts, "source")
        with one_run([(kube, False)], opts, new_run_id(), reporter, dry_run=dry_run):
            with nothing_changed():
                t = verb.preflight(opts, kube, lambda: _checked(destination, opts), reporter)
                if cloud is not None and cloud.hosted_zone_id and not opts.force:  # T16: the records moved too
                    _check_records_moved(cloud, t)
            if opts.force and not dry_run:
                _confirm_force(opts.name, yes=yes)
            return run_verb(verb, t, reporter, dry_run=dry_run)

    return run(Out(output, "TeardownResult"), body)


def _check_records_moved(cloud: CloudTarget, t: Teardown) -> None:
    """The teardown guard's DNS half: the HC's hostnames are the destination's ExternalDNS's now."""
    from kubectl_hcmigrate.adapters.cloud import records_for
    from kubectl_hcmigrate.core.report import PreflightError
    from kubectl_hcmigrate.verbs.handoff import destination_problem

    problem = destination_problem(records_for(cloud), t.hc, t.dst) if t.hc is not None and t.dst is not None else None
    if problem:
        raise PreflightError(f"{problem}; nothing was changed (--force skips this check)")
