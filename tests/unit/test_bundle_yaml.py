"""The bundle's fast YAML reader gives exactly PyYAML's safe data, whatever a hand-edited file holds."""

from __future__ import annotations

import datetime

import pytest
import yaml

from kubectl_hcmigrate.core.bundle_yaml import load_all

EDITED = """
apiVersion: cluster.x-k8s.io/v1beta1
kind: Machine
metadata:
  name: m-0
  labels: &labels {pool: a, "on": yes, n: 3}
  annotations:
    when: 2026-11-26T10:00:00Z
    quoted: "2026-11-26T10:00:00Z"
    ratio: 0.5
    empty: ~
    octal: 0o17
spec:
  base: &base {replicas: 2, paused: false}
  merged:
    <<: *base
    replicas: 3
  again: *labels
  list: [1, "1", true, null, [a, b], {k: v}]
  text: |
    line one
    line two
---
---
kind: Secret
data: !!binary aGVsbG8=
"""


def test_the_same_data_as_the_safe_loader() -> None:
    expected = [d for d in yaml.safe_load_all(EDITED) if d is not None]
    assert load_all(EDITED) == expected
    assert load_all(EDITED.encode()) == expected
    assert isinstance(expected[0]["metadata"]["annotations"]["when"], datetime.datetime)  # the sample means it


def test_a_document_that_holds_itself_is_refused_not_built() -> None:
    with pytest.raises(RecursionError):
        load_all("a: &x\n  b: *x\n")
