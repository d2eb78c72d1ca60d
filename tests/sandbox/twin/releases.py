"""Which HyperShift releases restore HA etcd as one cluster (upstream PR #9048) and which as
separate one-member clusters (OCPBUGS-99534). The twin's own table, keyed by the HC's release."""

from __future__ import annotations

import re

# minor -> first patch release carrying the fix; minors above the last row all carry it.
FIXED_IN = {(4, 20): 9, (4, 21): 3}
FIRST_FIXED_MINOR = (4, 22)


def version(release_image: str) -> tuple[int, int, int] | None:
    """4.21.3 from `quay.io/openshift-release-dev/ocp-release:4.21.3-x86_64`; None if it names none."""
    m = re.search(r":(\d+)\.(\d+)\.(\d+)", release_image or "")
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def restores_ha_as_one_cluster(release_image: str) -> bool:  # T10
    v = version(release_image)
    if v is None:  # unknown: as upstream at the reference commit, with the bug
        return False
    if v[:2] >= FIRST_FIXED_MINOR:
        return True
    fixed = FIXED_IN.get(v[:2])
    return fixed is not None and v[2] >= fixed
