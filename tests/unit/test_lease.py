"""One run per hosted cluster: the lease's rules, on a fake cluster that keeps Leases as the
apiserver does (resourceVersion, 409 on a lost race)."""

from __future__ import annotations

import os
import signal
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kubectl_hcmigrate.core import lease as L
from kubectl_hcmigrate.core.pipeline import LATE_INTERRUPT
from kubectl_hcmigrate.core.report import PreflightError
from tests.fakes import LeaseKube, LinesReporter

NOW = datetime(2026, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
HOST = socket.gethostname()
NAME = L.lease_name("example")


def take(kube: LeaseKube, holder: str, now: datetime = NOW, **kw: Any) -> tuple[L.Lease, LinesReporter]:
    reporter = LinesReporter()
    lease = L.Lease(kube, "clusters", "example", holder, reporter, **kw)  # type: ignore[arg-type]
    lease.acquire(now)
    return lease, reporter


def test_the_first_run_takes_the_lease_with_its_identity_and_times() -> None:
    kube = LeaseKube()
    lease, _ = take(kube, "host-a/10/aaaa1111")
    spec = kube.leases[("clusters", NAME)]["spec"]
    assert lease.held and spec["holderIdentity"] == "host-a/10/aaaa1111"
    assert spec["acquireTime"] == spec["renewTime"] == "2026-05-01T10:00:00.000000Z"
    assert spec["leaseDurationSeconds"] == L.LEASE_SECONDS


def test_a_second_run_is_refused_naming_the_holder_and_since_when() -> None:
    kube = LeaseKube()
    take(kube, "host-a/10/aaaa1111")
    with pytest.raises(PreflightError) as refused:
        take(kube, "host-b/20/bbbb2222", NOW + timedelta(seconds=5))
    message = str(refused.value)
    assert "holder host-a/10/aaaa1111" in message and "since 2026-05-01T10:00:00Z" in message
    assert "nothing was changed" in message
    assert kube.leases[("clusters", NAME)]["spec"]["holderIdentity"] == "host-a/10/aaaa1111"


def test_an_expired_lease_is_taken_over_and_the_tool_says_so() -> None:
    kube = LeaseKube()
    take(kube, "host-a/10/aaaa1111")
    later = NOW + timedelta(seconds=L.LEASE_SECONDS + 1)
    lease, reporter = take(kube, "host-b/20/bbbb2222", later)
    assert lease.held and kube.leases[("clusters", NAME)]["spec"]["holderIdentity"] == "host-b/20/bbbb2222"
    assert any("took over the lease" in x and "host-a/10/aaaa1111" in x and "expired" in x for x in reporter.lines)


def test_a_holder_on_this_host_whose_process_is_gone_is_taken_over_at_once() -> None:
    assert L.dead_here(f"{HOST}/123/aaaa1111", HOST, alive=lambda pid: False)
    assert not L.dead_here(f"{HOST}/123/aaaa1111", HOST, alive=lambda pid: True)
    assert not L.dead_here("elsewhere/123/aaaa1111", HOST, alive=lambda pid: False)
    kube = LeaseKube()
    take(kube, f"{HOST}/999999999/aaaa1111")  # no such pid
    lease, reporter = take(kube, f"{HOST}/20/bbbb2222", NOW + timedelta(seconds=1))
    assert lease.held and "its process is gone" in reporter.lines[0]


def test_renew_moves_the_time_and_notices_a_lost_lease() -> None:
    kube = LeaseKube()
    lease, _ = take(kube, "host-a/10/aaaa1111")
    assert lease.renew(NOW + timedelta(seconds=15))
    spec = kube.leases[("clusters", NAME)]["spec"]
    assert spec["renewTime"] == "2026-05-01T10:00:15.000000Z" and spec["acquireTime"] == "2026-05-01T10:00:00.000000Z"
    take(kube, "host-b/20/bbbb2222", NOW + timedelta(seconds=15 + L.LEASE_SECONDS + 1))
    assert lease.renew() is False


def test_release_removes_only_the_runs_own_lease() -> None:
    kube = LeaseKube()
    lease, _ = take(kube, "host-a/10/aaaa1111")
    lease.release()
    assert kube.leases == {}
    stale, _ = take(kube, "host-a/10/aaaa1111")
    take(kube, "host-b/20/bbbb2222", NOW + timedelta(seconds=L.LEASE_SECONDS + 1))
    stale.release()  # taken over meanwhile: the new holder keeps it
    assert kube.leases[("clusters", NAME)]["spec"]["holderIdentity"] == "host-b/20/bbbb2222"


def test_no_namespace_no_lease_unless_the_run_creates_it() -> None:
    kube = LeaseKube(namespaces=())
    lease, _ = take(kube, "host-a/10/aaaa1111")
    assert not lease.held and kube.writes == []
    lease, _ = take(kube, "host-a/10/aaaa1111", create_ns=True)
    assert lease.held and kube.writes == ["create namespace clusters", f"create lease {NAME}"]


def test_a_namespace_created_for_the_lease_goes_with_it_unless_the_run_put_something_there() -> None:
    kube = LeaseKube(namespaces=())
    lease, _ = take(kube, "host-a/10/aaaa1111", create_ns=True)
    kube.contents["clusters"] = [{"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}}]
    lease.release()
    assert kube.writes[-2:] == [f"delete lease {NAME}", "delete namespace clusters"]
    lease, _ = take(kube, "host-a/10/aaaa1111", create_ns=True)
    kube.contents["clusters"] = [{"kind": "HostedCluster", "metadata": {"name": "example"}}]
    lease.release()
    assert kube.writes[-1] == f"delete lease {NAME}" and "clusters" in kube.namespaces


def test_a_release_stops_listing_at_the_first_type_that_holds_something() -> None:
    """What a restore leaves there is found at once: not every type the server serves listed."""
    kube = LeaseKube(namespaces=())
    lease, _ = take(kube, "host-a/10/aaaa1111", create_ns=True)
    kube.contents["clusters"] = [{"kind": "Secret", "metadata": {"name": f"s{i}"}} for i in range(50)]
    kube.types_listed = 0
    lease.release()
    assert "clusters" in kube.namespaces
    assert kube.types_listed == 2  # the lease's own type, then the first Secret's


def test_holding_releases_when_the_run_fails() -> None:
    kube = LeaseKube()
    with pytest.raises(RuntimeError), L.holding([(kube, False)], "clusters", "example", "aaaa1111", LinesReporter()):  # type: ignore[list-item]
        assert kube.leases[("clusters", NAME)]["spec"]["holderIdentity"].endswith("/aaaa1111")
        raise RuntimeError("boom")
    assert kube.leases == {}


def test_an_interrupt_while_a_finished_run_releases_its_lease_is_said_and_stops_nothing() -> None:
    class Interrupted(LeaseKube):
        def delete_lease(self, *args: Any) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just as the run's last request goes out
            super().delete_lease(*args)

    kube, reporter = Interrupted(), LinesReporter()
    with L.holding([(kube, False)], "clusters", "example", "aaaa1111", reporter):  # type: ignore[list-item]
        pass
    assert kube.leases == {} and reporter.lines == [LATE_INTERRUPT]
    with pytest.raises(KeyboardInterrupt):  # and Ctrl-C works as before once it is over
        os.kill(os.getpid(), signal.SIGINT)


def test_a_dry_run_is_refused_as_the_real_run_but_takes_nothing() -> None:
    kube = LeaseKube()
    L.check_free(kube, "clusters", "example")  # type: ignore[arg-type]
    assert kube.writes == []
    other = L.body("clusters", "example", "host-b/20/bbbb2222", datetime.now(timezone.utc))
    kube.create_lease("clusters", other)
    with pytest.raises(PreflightError, match="holder host-b/20/bbbb2222"):
        L.check_free(kube, "clusters", "example")  # type: ignore[arg-type]


def test_run_ids_differ() -> None:
    ids = {L.new_run_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 8 for i in ids)
    assert L.run_of(L.identity("abcd1234", host="h", pid=1)) == "abcd1234"
