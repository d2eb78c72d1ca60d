"""The preconditions of a move (issue 13): fixed hostnames (T15), a destination whose HyperShift
operator and ExternalDNS can take the HC (T19), and destination CRDs not older than the source's.
Each refusal is one line; migrate checks them before it looks at the source's etcd or the bucket,
and its dry run lists every verdict."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
import yaml

from kubectl_hcmigrate.core import crd_compat, operator_install, publishing
from kubectl_hcmigrate.core.report import EXIT_CODES, PreflightError
from kubectl_hcmigrate.verbs import migrate, preconditions
from tests.fakes import LinesReporter, NullReporter
from tests.sandbox.config import CRDS
from tests.unit.install_fixtures import installed, published
from tests.unit.test_migrate_checks import HC_OBJ, assert_nothing_written, clusters, opts

Obj = dict[str, Any]


def hc(access: str = "Public", **types: str) -> Obj:
    return published(HC_OBJ, access, **types)


# T15 --------------------------------------------------------------------------------------------


def test_services_with_hostnames_are_fixed() -> None:
    assert publishing.unfixed(hc()) == []
    assert publishing.hostnames(hc())[0] == "apiserver-example.hcp.sandbox.example.com"


@pytest.mark.parametrize(
    ("types", "says"),
    [
        ({"APIServer": "LoadBalancer"}, "APIServer is a LoadBalancer without a hostname "
         "(spec.services[APIServer].servicePublishingStrategy.loadBalancer.hostname)"),
        ({"OAuthServer": "Route"}, "OAuthServer is a Route without a hostname "
         "(spec.services[OAuthServer].servicePublishingStrategy.route.hostname)"),
        ({"Konnectivity": "NodePort"}, "Konnectivity is published as NodePort, an address of the source"),
    ],
    ids=["lb-without-hostname", "route-without-hostname", "nodeport"],
)  # fmt: skip
def test_a_migration_without_fixed_hostnames_is_refused_in_one_line(types: dict[str, str], says: str) -> None:
    verdict = preconditions.fixed_hostnames(hc(**types), migration=True)
    assert verdict.verdict == preconditions.REFUSED and says in verdict.detail
    assert "\n" not in verdict.detail and verdict.detail.startswith("HostedCluster clusters/example cannot be migrated")
    with pytest.raises(PreflightError) as err:
        preconditions.settle([verdict], NullReporter(), show=False)
    assert EXIT_CODES[err.value.outcome] == 3


def test_a_plain_backup_only_warns() -> None:
    reporter = LinesReporter()
    verdict = preconditions.fixed_hostnames(hc(APIServer="LoadBalancer"), migration=False)
    warnings = preconditions.settle([verdict], reporter, show=False)
    assert verdict.verdict == preconditions.WARNING and warnings == [verdict.detail]
    assert reporter.lines == []  # said once, in the summary (the result carries it)


def test_services_left_out_of_the_spec_are_named_together() -> None:
    bare = copy.deepcopy(hc())
    bare["spec"]["services"] = bare["spec"]["services"][:1]
    (problem,) = publishing.unfixed(bare)
    assert problem.startswith("OAuthServer, Konnectivity, Ignition not in spec.services")


def test_backup_keep_paused_refuses_before_it_reads_the_etcd_pods_or_the_bucket() -> None:
    from unittest.mock import MagicMock

    from kubectl_hcmigrate.core.options import BucketTarget
    from kubectl_hcmigrate.verbs import backup

    kube, bucket = MagicMock(), MagicMock()
    kube.context = "source"
    kube.get.return_value = hc(APIServer="LoadBalancer")
    options = backup.BackupOptions("example", "clusters", BucketTarget(bucket="b"), keep_paused=True)
    with pytest.raises(PreflightError, match="APIServer is a LoadBalancer without a hostname"):
        backup.preflight(options, kube, bucket, NullReporter())
    assert not kube.pods.called and not bucket.preflight.called and not kube.namespace.called


# T19 --------------------------------------------------------------------------------------------


def test_the_install_is_found_by_what_it_runs_not_by_its_name() -> None:
    renamed = installed()
    for d in renamed:
        d["metadata"].update(name=f"x-{d['metadata']['name']}", namespace="elsewhere")
    (op,) = operator_install.operators(renamed)
    assert op == operator_install.Operator("elsewhere/x-operator", "AWS", "us-east-2", True)
    (dns,) = operator_install.external_dns(renamed)
    assert dns.domains == ("hcp.sandbox.example.com",) and dns.owner_id == "owner-1"
    # A Deployment that is merely named like the operator is not one.
    impostor = copy.deepcopy(renamed[0])
    impostor["metadata"]["name"] = "operator"
    impostor["spec"]["template"]["spec"]["containers"][0].update(command=["/bin/sleep"], args=["infinity"])
    assert operator_install.operators([impostor]) == []


def problems(the_hc: Obj, deployments: list[Obj]) -> list[str]:
    ops, dns = operator_install.operators(deployments), operator_install.external_dns(deployments)
    found = [
        operator_install.operator_problem(the_hc, ops, "destination"),
        operator_install.external_dns_problem(the_hc, dns, "destination"),
    ]
    return [p for p in found if p]


def test_a_destination_set_up_like_the_source_takes_every_endpoint_access() -> None:
    for access in ("Public", "PublicAndPrivate", "Private"):
        assert problems(hc(access), installed()) == []


@pytest.mark.parametrize(
    ("access", "deployments", "says"),
    [
        ("Public", [], "context 'destination' runs no HyperShift operator"),
        ("Public", installed(running=False), "has no available replica"),
        ("Public", installed(region="us-west-2"), "installed for AWS region us-west-2, the HC runs in us-east-2"),
        ("Private", installed(region="eu-west-1"), "installed for AWS region eu-west-1"),
        ("Public", installed(domain="other.example.com"), "do not cover apiserver-example.hcp.sandbox.example.com"),
        ("Public", installed()[:1], "runs no ExternalDNS"),
    ],
    ids=["no-operator", "not-running", "other-region", "private-other-region", "domain-filter", "no-external-dns"],
)
def test_a_destination_that_cannot_take_the_hc_is_refused(access: str, deployments: list[Obj], says: str) -> None:
    problem = problems(hc(access), deployments)[0]  # with no install at all, its ExternalDNS is missing too
    assert says in problem and "\n" not in problem


def test_private_clusters_need_the_aws_private_platform_and_no_external_dns() -> None:
    public_only = installed()
    args = public_only[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    args[args.index("--private-platform=AWS")] = "--private-platform=None"
    for access in ("Private", "PublicAndPrivate"):
        (problem,) = problems(hc(access), public_only)
        assert "reinstall it with --private-platform=AWS --aws-private-region=us-east-2" in problem
    assert problems(hc("Public"), public_only) == []
    assert problems(hc("Private"), installed()[:1]) == []  # PrivateLink's own zone, not ExternalDNS


def test_the_domain_filter_covers_names_under_it_only() -> None:
    assert operator_install.covers("hcp.example.com", "api.hcp.example.com")
    assert operator_install.covers("hcp.example.com.", "hcp.example.com")
    assert not operator_install.covers("example.com", "api.notexample.com")
    unfiltered = installed()
    args = unfiltered[1]["spec"]["template"]["spec"]["containers"][0]["args"]
    args.remove("--domain-filter=hcp.sandbox.example.com")
    assert problems(hc(), unfiltered) == []  # no filter: every domain


# CRDs -------------------------------------------------------------------------------------------


@cache
def _crd(name: str) -> Obj:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((CRDS / name).read_text(), Loader=loader)  # a safe loader: C when built


def crd(name: str = "hostedclusters-Hypershift-Default.crd.yaml") -> Obj:
    return copy.deepcopy(_crd(name))


def test_the_same_crds_are_not_older() -> None:
    assert crd_compat.older_than(crd(), crd()) == []
    assert crd_compat.unknown_fields(hc(), crd(), "v1beta1") == []


def test_a_destination_crd_without_a_field_of_the_source_is_older() -> None:
    old = crd()
    spec = old["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    del spec["services"]["items"]["properties"]["servicePublishingStrategy"]["properties"]["loadBalancer"]
    assert crd_compat.older_than(old, crd()) == [
        "spec.services[].servicePublishingStrategy.loadBalancer",
        "spec.services[].servicePublishingStrategy.loadBalancer.hostname",
    ]
    # The bundle's HC sets it: the destination would prune it.
    assert crd_compat.unknown_fields(hc(), old, "v1beta1") == ["spec.services[].servicePublishingStrategy.loadBalancer"]


def test_a_version_the_source_serves_and_the_destination_does_not_is_missing() -> None:
    newer = crd()
    newer["spec"]["versions"].append({**newer["spec"]["versions"][0], "name": "v1", "storage": False})
    assert crd_compat.older_than(crd(), newer)[0] == "version v1"


class CrdKube:
    def __init__(self, crds: dict[str, Obj], context: str) -> None:
        self.crds, self.context = crds, context

    def crd(self, name: str) -> Obj | None:
        return self.crds.get(name)


def hs_crds() -> dict[str, Obj]:
    return {
        "hostedclusters.hypershift.openshift.io": crd(),
        "nodepools.hypershift.openshift.io": crd("nodepools-Default.crd.yaml"),
        "hostedcontrolplanes.hypershift.openshift.io": crd("hostedcontrolplanes-Hypershift-Default.crd.yaml"),
    }


def test_destination_crds_say_which_is_older_and_which_version_is_not_served() -> None:
    source, dest = CrdKube(hs_crds(), "source"), CrdKube(hs_crds(), "destination")
    assert preconditions.destination_crds(dest, source=source, objects=[hc()]).verdict == preconditions.OK  # type: ignore[arg-type]
    np = dest.crds["nodepools.hypershift.openshift.io"]
    del np["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["arch"]
    verdict = preconditions.destination_crds(dest, source=source)  # type: ignore[arg-type]
    assert "nodepools.hypershift.openshift.io is older than the source's (lacks spec.arch)" in verdict.detail
    future = {**hc(), "apiVersion": "hypershift.openshift.io/v1"}
    verdict = preconditions.destination_crds(dest, objects=[future])  # type: ignore[arg-type]
    assert "hostedclusters.hypershift.openshift.io does not serve v1" in verdict.detail and "\n" not in verdict.detail


# migrate: first, and listed by the dry run ------------------------------------------------------


def with_hc(source: Any, the_hc: Obj) -> None:
    source.get.side_effect = lambda rule, ns, name: the_hc if rule.kind == "HostedCluster" else None


@pytest.mark.parametrize("run", [migrate.migrate, migrate.plan], ids=["run", "dry-run"])
def test_migrate_refuses_before_it_looks_at_the_source_or_the_bucket(run: Any) -> None:
    source, destination, bucket = clusters()
    with_hc(source, hc(APIServer="LoadBalancer"))
    with pytest.raises(PreflightError, match="APIServer is a LoadBalancer without a hostname") as err:
        run(opts(), source, destination, bucket, NullReporter())
    assert EXIT_CODES[err.value.outcome] == 3
    assert_nothing_written(source, destination, bucket)
    assert not source.pods.called and not bucket.presign_get.called and not bucket.get_bytes.called


def test_migrate_refuses_a_destination_set_up_for_another_region() -> None:
    source, destination, bucket = clusters()
    destination.workloads.side_effect = lambda kind, ns: installed(region="us-west-2")
    with pytest.raises(PreflightError, match="installed for AWS region us-west-2, the HC runs in us-east-2"):
        migrate.migrate(opts(), source, destination, bucket, NullReporter())
    assert_nothing_written(source, destination, bucket)


def test_the_dry_run_lists_each_check_with_its_verdict_even_when_one_refuses() -> None:
    source, destination, bucket = clusters()
    with_hc(source, hc(APIServer="LoadBalancer"))
    reporter = LinesReporter()
    with pytest.raises(PreflightError):
        migrate.plan(opts(), source, destination, bucket, reporter)
    said = [line.split(":")[0:2] for line in reporter.lines if line.startswith("precondition ")]
    assert said == [
        ["precondition fixed hostnames", " refused"],
        ["precondition destination operator", " ok"],
        ["precondition destination ExternalDNS", " ok"],
        ["precondition destination CRDs", " ok"],
    ]


# restore and a plain backup: a disaster recovery only warns of the hostnames -----------------------


def restore_destination(deployments: list[Obj]) -> Any:
    from unittest.mock import MagicMock

    kube = MagicMock()
    kube.context = "destination"
    crds = hs_crds()
    kube.crd.side_effect = lambda name: crds.get(name, {"spec": {"versions": []}})
    kube.workloads.side_effect = lambda kind, ns: deployments
    return kube


def bundle_of(the_hc: Obj) -> tuple[list[Any], Any]:
    from kubectl_hcmigrate.core.bundle import BundleObject
    from kubectl_hcmigrate.core.kinds import rule_for
    from tests.unit.hc_fixtures import manifest

    cesar = {**the_hc, "metadata": {"name": "cesar", "namespace": "clusters"}}
    return [BundleObject("clusters/hostedcluster-cesar.yaml", cesar, rule_for("HostedCluster", "hc"))], manifest()


def test_restore_warns_of_unfixed_hostnames_and_refuses_a_destination_without_an_operator() -> None:
    from kubectl_hcmigrate.verbs import restore_checks

    found, m = bundle_of(hc(APIServer="LoadBalancer"))
    reporter = LinesReporter()
    warnings = restore_checks.check_destination(restore_destination(installed()), found, m, False, reporter, show=False)
    assert len(warnings) == 1 and "APIServer is a LoadBalancer without a hostname" in warnings[0]
    assert reporter.lines == []  # said once, in the summary (the result carries it)
    with pytest.raises(PreflightError, match="runs no HyperShift operator"):
        restore_checks.check_destination(restore_destination([]), found, m, False, NullReporter(), show=False)


def test_a_plain_backup_ends_with_the_warning_in_its_result() -> None:
    from kubectl_hcmigrate.core.source_state import SourceState
    from tests.unit.test_backup_plan import found

    b = found(SourceState(None, {}, {"kube-apiserver": 1}))
    assert "warnings" not in backup_result(b)
    b.warnings = ["HostedCluster clusters/example could not be migrated from this backup: ..."]
    assert backup_result(b)["warnings"] == b.warnings  # run_verb makes it SUCCEEDED_WITH_WARNINGS


def backup_result(b: Any) -> dict[str, Any]:
    from kubectl_hcmigrate.verbs import backup

    return backup.result(b, {})
