"""Wiring of the handoff and oidc verbs (commands.py holds the others)."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.commands import Out, check_access, one_run, run, say_where
from kubectl_hcmigrate.core import permissions
from kubectl_hcmigrate.core.options import CloudTarget, KubeTarget, OutputFormat
from kubectl_hcmigrate.core.pipeline import run_verb
from kubectl_hcmigrate.core.report import nothing_changed
from kubectl_hcmigrate.ui import TextReporter


def handoff(source: KubeTarget, cloud: CloudTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.cloud import records_for
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.core.lease import new_run_id
        from kubectl_hcmigrate.verbs import handoff as verb

        kube = Kube(source, "source")
        say_where(
            reporter,
            f"{'planning the handoff of' if dry_run else 'handing off'} {opts.namespace}/{opts.name} from",
            kube,
        )
        check_access(kube, permissions.HANDOFF, opts, "source")
        with one_run([(kube, False)], opts, new_run_id(), reporter, dry_run=dry_run):
            with nothing_changed():
                h = verb.preflight(opts, kube, records_for(cloud), reporter)
            if h is None:
                return {"outcome": "SUCCEEDED", "skipped": True, "hostedcluster": f"{opts.namespace}/{opts.name}"}
            return run_verb(verb, h, reporter, dry_run=dry_run)

    return run(Out(output, "HandoffResult"), body)


def oidc(destination: KubeTarget, cloud: CloudTarget, opts: Any, *, dry_run: bool, output: OutputFormat) -> int:
    def body(reporter: TextReporter) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.cloud import Identity
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.verbs import oidc as verb

        kube = Kube(destination, "destination")
        say_where(reporter, f"checking the OIDC identity of {opts.namespace}/{opts.name} on", kube)
        check_access(kube, permissions.OIDC, opts, "destination")
        with nothing_changed():
            o = verb.preflight(opts, kube, Identity(cloud), reporter)
        verb.check_found(o)  # a finding, not a refusal: exit 1
        return run_verb(verb, o, reporter, dry_run=dry_run)

    return run(Out(output, "OidcResult"), body)
