"""A container's log, as `kubectl logs [--previous]` reads it: the one answer of the apiserver
that is text, not JSON, so it does not go through `Kube.request`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube


def pod_log(kube: Kube, namespace: str, pod: str, container: str, *, previous: bool, tail: int) -> str:
    """The last `tail` lines `container` wrote; with `previous`, those of its last terminated run."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from kubectl_hcmigrate.adapters.kube_errors import kube_error, unreachable

    timeout = kube.target.request_timeout
    try:
        text = CoreV1Api(kube.api).read_namespaced_pod_log(
            pod, namespace, container=container, previous=previous, tail_lines=tail,
            _request_timeout=(timeout, timeout),
        )  # fmt: skip
    except ApiException as e:
        raise kube_error(e) from None
    except (HTTPError, OSError) as e:
        raise unreachable(kube, "GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/log", e) from None
    return text if isinstance(text, str) else str(text or "")
