"""Which HyperShift releases restore a HighlyAvailable etcd from a snapshot as one cluster (T10).

Without upstream PR #9048 every member's etcd-init restores the same snapshot with no member
name or initial cluster, so each of the three members comes up as its own one-member cluster
(OCPBUGS-99534) and HyperShift still reports etcd Available. The HC's release decides which
control-plane operator restores it, so the HC's `spec.release.image` is what is judged here.
"""

from __future__ import annotations

import re
from typing import Any

BUG = "OCPBUGS-99534"
FIX = "upstream PR #9048"
# minor -> first patch release carrying the fix; every minor from FIRST_FIXED_MINOR on carries it.
# The sandbox's HyperShift twin keeps its own copy (it models upstream); a unit test keeps them equal.
FIXED_IN: dict[tuple[int, int], int] = {(4, 20): 9, (4, 21): 3}
FIRST_FIXED_MINOR = (4, 22)
HA_ETCD_REPLICAS = 3  # HyperShift runs three etcd members for a HighlyAvailable control plane


def version(release_image: str) -> tuple[int, int, int] | None:
    """4.21.3 from `quay.io/openshift-release-dev/ocp-release:4.21.3-x86_64`; None when the image
    names no version (a digest, a custom tag)."""
    m = re.search(r":(\d+)\.(\d+)\.(\d+)", release_image or "")
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def restores_ha_as_one_cluster(release_image: str) -> bool | None:
    """True with the fix, False without, None when the image names no version to judge by."""
    v = version(release_image)
    if v is None:
        return None
    if v[:2] >= FIRST_FIXED_MINOR:
        return True
    fixed = FIXED_IN.get(v[:2])
    return fixed is not None and v[2] >= fixed


def fixed_releases() -> str:
    """The releases carrying the fix, as a person reads them: '4.20.9+, 4.21.3+, 4.22 and later'."""
    rows = [f"{major}.{minor}.{patch}+" for (major, minor), patch in sorted(FIXED_IN.items())]
    return ", ".join([*rows, f"{FIRST_FIXED_MINOR[0]}.{FIRST_FIXED_MINOR[1]} and later"])


def etcd_replicas(hc: dict[str, Any]) -> int:
    """Members of the HC's managed etcd: HyperShift runs three for a HighlyAvailable control plane."""
    spec = hc.get("spec") or {}
    managed = (spec.get("etcd") or {}).get("managementType", "Managed") == "Managed"
    return HA_ETCD_REPLICAS if managed and spec.get("controllerAvailabilityPolicy") == "HighlyAvailable" else 1


def ha_restore_refusal(hc: dict[str, Any], override_flag: str) -> str | None:
    """Why restoring this HC's etcd would split it into one-member clusters, or None when it would not.

    A release whose image names no version is refused too: a wrong guess there serves a split etcd.
    `override_flag` is named in the message for a control-plane operator that carries the fix anyway."""
    if etcd_replicas(hc) == 1:
        return None
    image = ((hc.get("spec") or {}).get("release") or {}).get("image", "")
    verdict = restores_ha_as_one_cluster(image)
    if verdict:
        return None
    meta = hc.get("metadata") or {}
    which = "without the fix" if verdict is False else "whose version it does not name (no x.y.z tag)"
    return (
        f"HostedCluster {meta.get('namespace')}/{meta.get('name')} is HighlyAvailable and its release {image!r} is one "
        f"{which}: its {HA_ETCD_REPLICAS} etcd members would each restore the snapshot as a separate one-member "
        f"cluster ({BUG}; {FIX} fixes it in {fixed_releases()}). Nothing was changed: upgrade the HC to a release "
        f"with the fix first, or pass {override_flag} if its control-plane operator carries the fix (the check "
        "after the restore still fails a split etcd)"
    )
