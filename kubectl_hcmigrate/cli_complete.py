"""Completion: the candidates for --context/--to-context (the kubeconfig's contexts), --hc (the
HostedClusters on the cluster the verb acts on) and --backup-id (the backups in the bucket), and
kubectl's plugin completion protocol (`kubectl_complete-hcmigrate __complete <words>`, cobra's),
which the krew archive's `kubectl_complete-hcmigrate` and `oc_complete-hcmigrate` call.

A candidate that cannot be had (no kubeconfig, a cluster or bucket out of reach) is left out:
completion must never print an error into the user's command line, nor hang it."""

from __future__ import annotations

import contextlib
from typing import Any

import typer

# Completion asks a cluster or a bucket while the user waits at the prompt.
COMPLETION_TIMEOUT = 3.0
# cobra's ShellCompDirective: 4 = no file completion, 0 = the shell's default (files).
NO_FILES, FILES = 4, 0


def _params(ctx: typer.Context) -> dict[str, Any]:
    """What was typed so far, before the verb and after it (after wins)."""
    before = ctx.parent.params if ctx.parent is not None else {}
    return {**{k: v for k, v in before.items() if v is not None}, **{k: v for k, v in ctx.params.items() if v}}


def contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    with contextlib.suppress(Exception):
        from kubectl_hcmigrate.adapters.kubeconfig import context_names

        return [n for n in context_names(_params(ctx).get("kubeconfig")) if n.startswith(incomplete)]
    return []


def hostedclusters(ctx: typer.Context, incomplete: str) -> list[str]:
    with contextlib.suppress(Exception):
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.core.kinds import rule_for
        from kubectl_hcmigrate.core.options import KubeTarget

        p = _params(ctx)
        target = KubeTarget(p.get("kubeconfig"), p.get("context") or p.get("to_context"), COMPLETION_TIMEOUT)
        items = Kube(target).list_objects(rule_for("HostedCluster", "hc"), p.get("namespace") or "clusters")
        return sorted(n for o in items if (n := o["metadata"]["name"]).startswith(incomplete))
    return []


def backup_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    with contextlib.suppress(Exception):
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.cli_flags import bucket_target
        from kubectl_hcmigrate.verbs.list import ListOptions, list_backups

        p = _params(ctx)
        where = bucket_target(p["bucket"], p.get("prefix") or "", p.get("region"), p.get("endpoint_url"), None)
        opts = ListOptions(where, p.get("namespace") or "clusters", p.get("hc"))
        rows = list_backups(opts, Bucket(where))["backups"]
        return [r["backup_id"] for r in rows if r["complete"] and r["backup_id"].startswith(incomplete)]
    return []


def kubectl_complete(words: list[str]) -> list[str]:
    """cobra's `__complete`: the words after the plugin's name, the last the one being typed;
    the candidates, one a line (`value<TAB>help`), then `:<directive>`."""
    import typer.main

    # typer's own (it carries its own click): only its parsing of the words is used, not its output.
    from typer._completion_classes import BashComplete

    from kubectl_hcmigrate.cli_app import app
    from kubectl_hcmigrate.cli_help import _completion_var, prog_name

    args, incomplete = words[:-1], (words[-1] if words else "")
    complete = BashComplete(typer.main.get_command(app), {}, prog_name(), _completion_var())
    items = complete.get_completions(args, incomplete)
    lines = [f"{i.value}\t{i.help}" if i.help else str(i.value) for i in items if i.type == "plain"]
    files = any(i.type in ("file", "dir") for i in items)
    return [*lines, f":{FILES if files else NO_FILES}"]
