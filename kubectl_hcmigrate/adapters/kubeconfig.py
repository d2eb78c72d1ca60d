"""Picking a cluster from kubeconfig as kubectl does, and saying in one line what is wrong with a
kubeconfig that cannot be used (a directory, unreadable, not YAML, not a kubeconfig)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.bounded import IN_FLIGHT
from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.report import PreflightError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


def load_client(target: KubeTarget, role: str) -> tuple[str, ApiClient]:
    """The context picked (`--context`, else the current one) and a client for it; a refusal
    (exit 3, one line) for anything that keeps either from being had."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        contexts, current = config.list_kube_config_contexts(config_file=target.kubeconfig)
        names = {c["name"] for c in contexts}
        context = target.context or (current or {}).get("name", "")
        if context not in names:
            flag = "--to-context" if role == "destination" else "--context"
            raise PreflightError(
                f"kubeconfig has no context '{context}' for the {role} cluster: "
                f"pass {flag} with one of: {', '.join(sorted(names)) or '(none)'}"
            )
        conf = client.Configuration()
        # Writes run a few at a time (core/bounded.py), access reviews too: one kept connection
        # each, or urllib3 opens and drops one per request past its default (5 per core).
        conf.connection_pool_maxsize = max(conf.connection_pool_maxsize, IN_FLIGHT + 2)
        return context, config.new_client_from_config(target.kubeconfig, context, client_configuration=conf)
    except PreflightError:
        raise
    except ConfigException as e:
        raise PreflightError(f"cannot load kubeconfig for the {role} cluster: {' '.join(str(e).split())}") from None
    except Exception as e:  # the client's loader fails on bad input with whatever it hits first
        raise PreflightError(f"cannot load kubeconfig for the {role} cluster: {_problem(target, e)}") from None


def _problem(target: KubeTarget, e: Exception) -> str:
    """What is wrong with the kubeconfig, quoting none of its content (it holds credentials)."""
    import yaml

    where = target.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    if isinstance(e, OSError):
        return f"{where}: {e.strerror or type(e).__name__}: pass a kubeconfig file with --kubeconfig or KUBECONFIG"
    if isinstance(e, yaml.YAMLError):
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"{where} is not valid YAML{at}: fix or replace it"
    return f"{where} is not a valid kubeconfig ({type(e).__name__}): fix or replace it"


def context_names(kubeconfig: str | None) -> list[str]:
    """The kubeconfig's contexts, for completion (errors are the caller's to swallow)."""
    from kubernetes import config

    contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
    return sorted(c["name"] for c in contexts)
