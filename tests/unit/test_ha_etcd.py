"""T10 for HighlyAvailable etcd: the table of releases that restore it as one cluster (the tool's and
the twin's agree), the refusal before any change, and the member check after the restore."""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest.mock import MagicMock

import pytest

from kubectl_hcmigrate.core import releases
from kubectl_hcmigrate.core.report import EXIT_CODES, PreflightError
from kubectl_hcmigrate.etcd.members import EtcdNotOneCluster, MemberView, check_one_cluster, split_problem
from kubectl_hcmigrate.verbs import migrate, restore_checks
from tests.fakes import LinesReporter, NullReporter
from tests.sandbox.twin import releases as twin
from tests.unit.test_migrate_checks import HC_OBJ, assert_nothing_written, clusters, opts

IMAGE = "quay.io/openshift-release-dev/ocp-release:{}-x86_64"


def ha_hc(release: str, policy: str = "HighlyAvailable", etcd: str = "Managed") -> dict[str, Any]:
    return {
        "metadata": {"name": "example", "namespace": "clusters"},
        "spec": {"controllerAvailabilityPolicy": policy, "etcd": {"managementType": etcd},
                 "release": {"image": release}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("release", "fixed"),
    [("4.20.8", False), ("4.20.9", True), ("4.21.2", False), ("4.21.3", True), ("4.22.0", True),
     ("4.19.40", False), ("5.0.0", True)],
)  # fmt: skip
def test_the_releases_with_the_fix(release: str, fixed: bool) -> None:
    assert releases.restores_ha_as_one_cluster(IMAGE.format(release)) is fixed


def test_the_tool_and_the_twin_agree_on_every_release() -> None:
    # The twin models upstream, the tool knows upstream: the same table, the same verdicts.
    assert (releases.FIXED_IN, releases.FIRST_FIXED_MINOR) == (twin.FIXED_IN, twin.FIRST_FIXED_MINOR)
    for minor in range(16, 26):
        for patch in range(15):
            image = IMAGE.format(f"4.{minor}.{patch}")
            assert bool(releases.restores_ha_as_one_cluster(image)) == twin.restores_ha_as_one_cluster(image), image
    for unknown in ("fakeReleaseImage", "quay.io/ocp-release@sha256:" + "0" * 64):  # twin: as upstream, buggy
        assert releases.restores_ha_as_one_cluster(unknown) is None and not twin.restores_ha_as_one_cluster(unknown)


def test_an_ha_hc_on_a_release_without_the_fix_is_refused_in_one_line() -> None:
    why = releases.ha_restore_refusal(ha_hc(IMAGE.format("4.21.2")), "--flag")
    assert why is not None and "\n" not in why
    for part in ("clusters/example is HighlyAvailable", "4.21.2", "without the fix", releases.BUG, releases.FIX,
                 "4.20.9+, 4.21.3+, 4.22 and later", "Nothing was changed", "--flag"):  # fmt: skip
        assert part in why


@pytest.mark.parametrize(
    "hc",
    [ha_hc(IMAGE.format("4.21.3")), ha_hc(IMAGE.format("4.21.2"), policy="SingleReplica"),
     ha_hc("fakeReleaseImage", etcd="Unmanaged")],
    ids=["fixed", "single-replica", "unmanaged-etcd"],
)  # fmt: skip
def test_nothing_to_refuse(hc: dict[str, Any]) -> None:
    assert releases.ha_restore_refusal(hc, "--flag") is None


def test_a_release_that_names_no_version_is_refused_too() -> None:
    why = releases.ha_restore_refusal(ha_hc("quay.io/ocp-release@sha256:" + "0" * 64), "--flag")
    assert why is not None and "does not name (no x.y.z tag)" in why


def test_the_flag_turns_the_refusal_into_a_warning() -> None:
    with pytest.raises(PreflightError, match=releases.BUG):
        restore_checks.check_ha_etcd_release(ha_hc("fakeReleaseImage"), False, NullReporter())
    reporter = LinesReporter()
    restore_checks.check_ha_etcd_release(ha_hc("fakeReleaseImage"), True, reporter)
    assert any("warning: --trust-ha-etcd-restore" in line for line in reporter.lines)


@pytest.mark.parametrize("run", [migrate.migrate, migrate.plan], ids=["run", "dry-run"])
def test_migrate_refuses_an_ha_source_on_a_release_without_the_fix_before_the_backup(run: Any) -> None:
    source, destination, bucket = clusters()
    hc = copy.deepcopy(HC_OBJ)
    hc["spec"].update(controllerAvailabilityPolicy="HighlyAvailable", release={"image": IMAGE.format("4.20.1")})
    source.get.side_effect = lambda rule, ns, name: hc if rule.kind == "HostedCluster" else None
    with pytest.raises(PreflightError, match=releases.BUG) as err:
        run(opts(), source, destination, bucket, NullReporter())
    assert EXIT_CODES[err.value.outcome] == 3
    assert_nothing_written(source, destination, bucket)


def view(cluster: int, member: int, *members: tuple[int, str]) -> MemberView:
    return MemberView(cluster, member, frozenset(members))


ONE = ((1, "etcd-0"), (2, "etcd-1"), (3, "etcd-2"))


def test_three_members_of_one_cluster_pass() -> None:
    assert split_problem({f"etcd-{i}": view(7, i + 1, *ONE) for i in range(3)}, 3) is None


@pytest.mark.parametrize(
    ("views", "said"),
    [
        # What the bug leaves: each member restored alone, the same id everywhere (same defaults).
        ({f"etcd-{i}": view(7, 9, (9, "default")) for i in range(3)}, "etcd-0 lists 1 member(s) of cluster 7"),
        ({"etcd-0": view(7, 1, *ONE), "etcd-1": view(7, 2, *ONE), "etcd-2": view(8, 3, *ONE)}, "not one cluster"),
        ({f"etcd-{i}": view(7, i + 1, *ONE[:2]) for i in range(3)}, "lists 2 member(s)"),
        ({"etcd-0": view(7, 1, *ONE), "etcd-1": view(7, 2, *ONE)}, "only 2 of 3 etcd pods answered"),
    ],
    ids=["three-one-member-clusters", "another-cluster-id", "member-missing", "pod-missing"],
)
def test_anything_but_one_full_cluster_is_a_split(views: dict[str, MemberView], said: str) -> None:
    problem = split_problem(views, 3)
    assert problem is not None and said in problem


def member_list(cluster: int, member: int, members: tuple[tuple[int, str], ...]) -> bytes:
    ms = [{"ID": i, "name": n, "peerURLs": [f"http://{n}:2380"]} for i, n in members]
    return json.dumps({"header": {"cluster_id": cluster, "member_id": member, "raft_term": 2}, "members": ms}).encode()


def kube_with(answers: dict[str, tuple[int, bytes, bytes]]) -> Any:
    kube = MagicMock()
    kube.context = "destination"
    kube.pods.return_value = [{"metadata": {"name": p}} for p in answers]

    def run(ns: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        if argv[0] == "test":  # the CA detection
            return 0, b"", b""
        assert argv[-4:] == ["member", "list", "-w", "json"] and container == "etcd"
        return answers[pod]

    kube.run_in_pod.side_effect = run
    return kube


def test_the_check_asks_every_member_through_exec() -> None:
    kube = kube_with({f"etcd-{i}": (0, member_list(7, i + 1, ONE), b"") for i in range(3)})
    assert "3 etcd members form one cluster" in check_one_cluster(kube, "clusters-example", 3, NullReporter())


def test_a_split_found_says_what_and_what_to_do() -> None:
    kube = kube_with({f"etcd-{i}": (0, member_list(7, 9, ((9, "default"),)), b"") for i in range(3)})
    with pytest.raises(EtcdNotOneCluster) as err:
        restore_checks.check_etcd_one_cluster(kube, "clusters", "example", 3, NullReporter())
    message = str(err.value)
    assert EXIT_CODES[err.value.outcome] == 1
    for part in ("not found to be one cluster", "etcd-2 lists 1 member(s)", releases.BUG,
                 "delete HostedCluster clusters/example and namespace clusters-example"):  # fmt: skip
        assert part in message


def test_a_member_that_cannot_be_asked_fails_the_check() -> None:
    answers = {f"etcd-{i}": (0, member_list(7, i + 1, ONE), b"") for i in range(3)}
    answers["etcd-1"] = (1, b"", b"Error: context deadline exceeded\n")
    with pytest.raises(EtcdNotOneCluster, match=r"member list failed in clusters-example/etcd-1 .*deadline"):
        check_one_cluster(kube_with(answers), "clusters-example", 3, NullReporter())
